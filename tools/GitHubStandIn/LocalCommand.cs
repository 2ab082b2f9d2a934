using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>
/// <c>comment</c>: a person's comment on a pull request of the running stand-in (which sends the app GitHub's signed
/// <c>issue_comment</c> webhook), then the app's answer as it arrives: its reactions and its reply.
/// </summary>
internal static class LocalCommand
{
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> options)
    {
        if (options.GetValueOrDefault("--body") is not { Length: > 0 } body)
        {
            Console.Error.WriteLine("error: comment needs --body, e.g. --body \".deploy\"");
            return 2;
        }

        var standIn = new Uri(options.GetValueOrDefault("--standin") ?? "http://127.0.0.1:4010/");
        var repository = options.GetValueOrDefault("--repo") ?? StandInServer.DemoRepository;
        var number = long.Parse(options.GetValueOrDefault("--pr") ?? StandInServer.DemoPullRequest.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
        var user = options.GetValueOrDefault("--user") ?? "octocat";
        var wait = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("--wait") ?? "60", System.Globalization.CultureInfo.InvariantCulture));
        using var http = new HttpClient { BaseAddress = standIn, Timeout = TimeSpan.FromSeconds(10) };

        long id;
        try
        {
            using var posted = await http.PostAsJsonAsync($"_standin/repos/{repository}/pulls/{number}/comments", new { user, body });
            var answer = await posted.Content.ReadFromJsonAsync<JsonObject>();
            if (!posted.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"error: the stand-in answered {(int)posted.StatusCode}: {(string?)answer?["message"]}");
                return 1;
            }

            id = (long)answer!["id"]!;
        }
        catch (HttpRequestException exception)
        {
            Console.Error.WriteLine($"error: no stand-in at {standIn} ({exception.Message}). Is ./scripts/run-local.sh running?");
            return 1;
        }

        Console.WriteLine($"{user} commented on {repository}#{number}: {body}");
        var shown = new HashSet<string>(StringComparer.Ordinal);
        var deadline = DateTimeOffset.UtcNow + wait;
        while (DateTimeOffset.UtcNow < deadline)
        {
            var answers = await http.GetFromJsonAsync<JsonObject>($"_standin/repos/{repository}/issues/comments/{id}/answers");
            foreach (var reaction in answers!["reactions"]!.AsArray().Select(r => (string)r!).Where(r => shown.Add("reaction:" + r)))
            {
                Console.WriteLine($"  reaction: {reaction}");
            }

            var replies = answers["replies"]!.AsArray().Select(r => (string)r!).ToList();
            if (replies.Count > 0)
            {
                foreach (var reply in replies)
                {
                    // The hidden mark on the first line is for the app; people see the rest.
                    Console.WriteLine("  reply:");
                    foreach (var line in reply.Split('\n').Where(l => !l.StartsWith("<!--", StringComparison.Ordinal)))
                    {
                        Console.WriteLine("    " + line);
                    }
                }

                return 0;
            }

            await Task.Delay(250);
        }

        Console.Error.WriteLine($"error: no reply within {wait.TotalSeconds:0} s (see the host's log)");
        return 1;
    }
}
