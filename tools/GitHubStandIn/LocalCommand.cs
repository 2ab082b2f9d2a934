using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>
/// The stand-in's verbs for trying the app without GitHub, each a call to the running stand-in's <c>/_standin/</c> routes:
/// <c>pr open</c> / <c>pr push</c>, <c>review</c>, <c>comment</c> (a person's comment, which sends the app GitHub's signed
/// <c>issue_comment</c> webhook, then the app's answer as it arrives), <c>react</c> and <c>comments</c>.
/// </summary>
internal static class LocalCommand
{
    public static readonly IReadOnlyList<string> Verbs = ["comment", "pr", "review", "react", "comments"];

    public static async Task<int> RunAsync(string verb, IReadOnlyList<string> positionals, IReadOnlyDictionary<string, string> options)
    {
        var standIn = new Uri(options.GetValueOrDefault("--standin") ?? "http://127.0.0.1:4010/");
        var repository = options.GetValueOrDefault("--repo") ?? StandInServer.DemoRepository;
        var user = options.GetValueOrDefault("--as") ?? options.GetValueOrDefault("--user") ?? "octocat";
        using var http = new HttpClient { BaseAddress = standIn, Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            return verb switch
            {
                "comment" => await CommentAsync(http, repository, user, positionals, options),
                "pr" when positionals is ["open"] => await OpenAsync(http, repository, user, options),
                "pr" when positionals is ["push", var pr] => await PullAsync(http, $"_standin/repos/{repository}/pulls/{Number(pr)}/push", null, "pushed"),
                "review" when positionals is [var pr] && (options.ContainsKey("--approve") || options.ContainsKey("--request-changes")) =>
                    await PullAsync(http, $"_standin/repos/{repository}/pulls/{Number(pr)}/reviews",
                        new { user, @event = options.ContainsKey("--approve") ? "APPROVE" : "REQUEST_CHANGES" },
                        $"{user} {(options.ContainsKey("--approve") ? "approved" : "requested changes on")}"),
                "react" when positionals is [var comment, var content] => await ReactAsync(http, repository, user, Number(comment), content),
                "comments" when positionals is [var pr] => await ConversationAsync(http, repository, Number(pr)),
                _ => Fail($"{verb}: see the usage (pr open --head <branch>; pr push <pr>; review <pr> --approve --as <login>; react <comment id> +1; comments <pr>)", 2),
            };
        }
        catch (HttpRequestException exception)
        {
            return Fail($"no stand-in at {standIn} ({exception.Message}). Is ./scripts/run-local.sh running?");
        }
        catch (FormatException)
        {
            return Fail($"{verb}: a pull request or comment is a number", 2);
        }
    }

    private static long Number(string text) => long.Parse(text.TrimStart('#'), CultureInfo.InvariantCulture);

    private static int Fail(string problem, int code = 1)
    {
        Console.Error.WriteLine($"error: {problem}");
        return code;
    }

    private static async Task<(bool Ok, JsonObject? Answer)> SendAsync(HttpClient http, string path, object? body)
    {
        using var response = await http.PostAsJsonAsync(path, body ?? new { });
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (!response.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"error: the stand-in answered {(int)response.StatusCode}: {(string?)answer?["message"]}");
        }

        return (response.IsSuccessStatusCode, answer);
    }

    private static async Task<int> OpenAsync(HttpClient http, string repository, string user, IReadOnlyDictionary<string, string> options)
    {
        if (options.GetValueOrDefault("--head") is not { Length: > 0 } head)
        {
            return Fail("pr open needs --head <branch>", 2);
        }

        return await PullAsync(http, $"_standin/repos/{repository}/pulls", new { head, @base = options.GetValueOrDefault("--base"), user }, $"{user} opened");
    }

    private static async Task<int> PullAsync(HttpClient http, string path, object? body, string what)
    {
        var (ok, pull) = await SendAsync(http, path, body);
        if (!ok)
        {
            return 1;
        }

        Console.WriteLine($"{what} {(string?)pull!["repository"]}#{(long)pull["number"]!}: {(string?)pull["head"]} -> {(string?)pull["base"]}, head {(string?)pull["head_sha"]}");
        return 0;
    }

    private static async Task<int> ReactAsync(HttpClient http, string repository, string user, long comment, string content)
    {
        var (ok, _) = await SendAsync(http, $"_standin/repos/{repository}/issues/comments/{comment}/reactions", new { user, content });
        if (ok)
        {
            Console.WriteLine($"{user} reacted {content} to comment {comment}");
        }

        return ok ? 0 : 1;
    }

    private static async Task<int> ConversationAsync(HttpClient http, string repository, long number)
    {
        using var response = await http.GetAsync($"_standin/repos/{repository}/pulls/{number}/conversation");
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (!response.IsSuccessStatusCode)
        {
            return Fail($"the stand-in answered {(int)response.StatusCode}: {(string?)answer?["message"]}");
        }

        foreach (var comment in answer!["comments"]!.AsArray().OfType<JsonObject>())
        {
            var reactions = comment["reactions"]!.AsArray().Select(r => (string)r!).ToList();
            Console.WriteLine($"comment {(long)comment["id"]!} by {(string?)comment["user"]}{(reactions.Count > 0 ? $" [{string.Join(' ', reactions)}]" : "")}:");
            Print((string)comment["body"]!);
        }

        return 0;
    }

    /// <summary>A comment as people see it: the hidden mark on the first line is for the app.</summary>
    private static void Print(string body)
    {
        foreach (var line in body.Split('\n').Where(l => !l.StartsWith("<!--", StringComparison.Ordinal)))
        {
            Console.WriteLine("    " + line);
        }
    }

    private static async Task<int> CommentAsync(
        HttpClient http, string repository, string user, IReadOnlyList<string> positionals, IReadOnlyDictionary<string, string> options)
    {
        var (pr, body) = positionals switch
        {
            [var text] => (options.GetValueOrDefault("--pr"), text),
            [var given, var text] => (given, text),
            _ => (options.GetValueOrDefault("--pr"), options.GetValueOrDefault("--body")),
        };
        if (body is not { Length: > 0 })
        {
            return Fail("comment needs the text, e.g. comment 1 \".deploy\" --as octocat", 2);
        }

        var number = pr is null ? StandInServer.DemoPullRequest : Number(pr);
        var wait = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("--wait") ?? "60", CultureInfo.InvariantCulture));
        var (ok, posted) = await SendAsync(http, $"_standin/repos/{repository}/pulls/{number}/comments", new { user, body });
        if (!ok)
        {
            return 1;
        }

        var id = (long)posted!["id"]!;
        Console.WriteLine($"{user} commented on {repository}#{number}: {body} (comment {id})");
        var shown = new HashSet<string>(StringComparer.Ordinal);
        var deadline = DateTimeOffset.UtcNow + wait;
        while (DateTimeOffset.UtcNow < deadline)
        {
            var answers = await http.GetFromJsonAsync<JsonObject>($"_standin/repos/{repository}/issues/comments/{id}/answers");
            foreach (var reaction in answers!["reactions"]!.AsArray().Select(r => (string)r!).Where(r => shown.Add("reaction:" + r)))
            {
                Console.WriteLine($"  reaction: {reaction}");
            }

            if (answers["replies"]!.AsArray().Select(r => (string)r!).ToList() is { Count: > 0 } replies)
            {
                foreach (var reply in replies)
                {
                    Console.WriteLine("  reply:");
                    Print(reply);
                }

                return 0;
            }

            if (answers["questions"]!.AsArray().OfType<JsonObject>().FirstOrDefault() is { } question)
            {
                // A deployment waiting for confirmation: the person answers it with a reaction, as on GitHub.
                Console.WriteLine($"  question (comment {(long)question["id"]!}):");
                Print((string)question["body"]!);
                Console.WriteLine($"  answer it: react {(long)question["id"]!} +1 --as {user}   (then: comments {number})");
                return 0;
            }

            await Task.Delay(250);
        }

        return Fail($"no reply within {wait.TotalSeconds:0} s (see the host's log)");
    }
}
