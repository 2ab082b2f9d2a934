namespace DeployFunctions.Tests.Support;

/// <summary>The repository's documentation: the README (the front door) and the pages it points to.</summary>
internal static class Documentation
{
    public static string Readme => Page("README.md");

    /// <summary>One page by its path from the repository root, e.g. <c>docs/commands.md</c>.</summary>
    public static string Page(string path) => File.ReadAllText(RepositoryRoot.Combine(path.Split('/')));

    /// <summary>Every Markdown page a reader can reach: the README, the top-level guides and <c>docs/</c>.</summary>
    public static IReadOnlyList<string> Pages { get; } =
    [
        "README.md", "CONTRIBUTING.md", "CHANGELOG.md",
        .. Directory.GetFiles(RepositoryRoot.Combine("docs"), "*.md").Select(f => "docs/" + Path.GetFileName(f)).Order(StringComparer.Ordinal),
    ];
}
