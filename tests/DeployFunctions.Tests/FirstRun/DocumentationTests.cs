using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeployFunctions.Config;
using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.FirstRun;

/// <summary>The README and docs/ as a reader meets them: links that lead somewhere, a front door that stays short.</summary>
public sealed partial class DocumentationTests
{
    [Fact]
    public void Every_relative_link_and_anchor_in_the_documentation_resolves()
    {
        var broken = new List<string>();
        foreach (var page in Documentation.Pages)
        {
            var directory = Path.GetDirectoryName(page.Replace('/', Path.DirectorySeparatorChar)) ?? "";
            foreach (var target in Links(Documentation.Page(page)))
            {
                if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal) ||
                    target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var file = hash < 0 ? target : target[..hash];
                var anchor = hash < 0 ? null : target[(hash + 1)..];
                var resolved = file.Length == 0 ? page : Path.GetRelativePath(RepositoryRoot.Path, Path.GetFullPath(Path.Combine(RepositoryRoot.Path, directory, file))).Replace('\\', '/');
                var full = RepositoryRoot.Combine(resolved.Split('/'));
                if (!File.Exists(full) && !Directory.Exists(full))
                {
                    broken.Add($"{page}: {target} (no {resolved})");
                }
                else if (anchor is not null && !(resolved.EndsWith(".md", StringComparison.Ordinal) && Anchors(File.ReadAllText(full)).Contains(anchor)))
                {
                    broken.Add($"{page}: {target} (no heading #{anchor} in {resolved})");
                }
            }
        }

        Assert.Empty(broken);
    }

    [Fact]
    public void The_link_checker_notices_a_missing_page_and_a_missing_heading()
    {
        Assert.Equal(["docs/nowhere.md", "#no-such-heading", "commands.md#who"], Links("[a](docs/nowhere.md) `[b](code.md)` [c](#no-such-heading) <a href=\"commands.md#who\">d</a>"));
        Assert.Equal(["what-run-localsh-does", "a-b", "a-b-1"], Anchors("## What `run-local.sh` does\n```sh\n# not a heading\n```\n# A, b\n### A b"));
    }

    [Fact]
    public void The_readme_is_a_front_door_that_points_to_every_page_in_docs()
    {
        var readme = Documentation.Readme;

        Assert.True(System.Text.Encoding.UTF8.GetByteCount(readme) <= 12 * 1024, "README.md is the front door: at most 12 KB, the reference lives in docs/");
        foreach (var page in Documentation.Pages.Where(p => p.StartsWith("docs/", StringComparison.Ordinal)))
        {
            Assert.Contains($"]({page})", readme, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_repository_file_page_shows_every_key_of_the_schema_in_an_example_the_app_accepts()
    {
        var page = Documentation.Page("docs/repository-file.md");
        var example = YamlBlock().Match(page);
        Assert.True(example.Success, "docs/repository-file.md has a yaml example");

        Assert.IsType<ConfigRead.Valid>(RepositoryConfigParser.Parse(example.Groups[1].Value, "docs"));
        var schema = JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("schema", "deployfunctions.schema.json")))!;
        foreach (var key in PropertyNames(schema))
        {
            Assert.Matches($@"(?m)^\s*(- )?{Regex.Escape(key)}:", example.Groups[1].Value);
        }
    }

    private static IEnumerable<string> PropertyNames(JsonNode? node) => node switch
    {
        JsonObject o => (o["properties"] as JsonObject)?.Select(p => p.Key).Concat(o.SelectMany(p => PropertyNames(p.Value))) ?? o.SelectMany(p => PropertyNames(p.Value)),
        JsonArray a => a.SelectMany(PropertyNames),
        _ => [],
    };

    /// <summary>Link targets outside code: Markdown <c>[text](target)</c> and HTML <c>href</c>.</summary>
    private static List<string> Links(string markdown)
    {
        var text = InlineCode().Replace(FencedCode().Replace(markdown, ""), "");
        return [.. MarkdownLink().Matches(text).Select(m => m.Groups[1].Value), .. HtmlLink().Matches(text).Select(m => m.Groups[1].Value)];
    }

    /// <summary>GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered.</summary>
    private static List<string> Anchors(string markdown)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var anchors = new List<string>();
        foreach (Match heading in Heading().Matches(FencedCode().Replace(markdown, "")))
        {
            var slug = new string([.. heading.Groups[1].Value.Trim().ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_')]).Replace(' ', '-');
            var count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }

        return anchors;
    }

    [GeneratedRegex(@"(?ms)^```.*?^```")]
    private static partial Regex FencedCode();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex("href=\"([^\"]+)\"")]
    private static partial Regex HtmlLink();

    [GeneratedRegex(@"(?m)^#{1,6} (.+)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"(?s)```yaml\n(.*?)```")]
    private static partial Regex YamlBlock();
}
