using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// Real GitHub payloads from the npm package <c>@octokit/webhooks-examples</c> (MIT), pinned in package.json and
/// installed by <c>npm ci</c>. Payloads GitHub's examples lack are derived from real ones and named as derived.
/// </summary>
internal static class WebhookExamples
{
    private static readonly Lazy<JsonArray> Index = new(Load);

    /// <summary>The <paramref name="index"/>-th example of <paramref name="eventName"/> with that action, as GitHub sent it.</summary>
    public static JsonObject Get(string eventName, string? action = null, int index = 0)
    {
        var group = Index.Value.Single(g => (string?)g!["name"] == eventName)!;
        var examples = group["examples"]!.AsArray()
            .Where(e => action is null || (string?)e!["action"] == action)
            .ToList();
        if (examples.Count <= index)
        {
            throw new InvalidOperationException($"No example {index} of {eventName} {action} in @octokit/webhooks-examples.");
        }

        return examples[index]!.DeepClone().AsObject();
    }

    public static byte[] Bytes(JsonNode payload) => Encoding.UTF8.GetBytes(payload.ToJsonString());

    /// <summary>
    /// DERIVED from the first real <c>pull_request</c> <c>closed</c> example (none of GitHub's is merged): marked merged
    /// by its sender, with a merge commit.
    /// </summary>
    public static JsonObject DerivedMergedPullRequest(string mergeCommitSha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c")
    {
        var payload = Get("pull_request", "closed");
        var pullRequest = payload["pull_request"]!.AsObject();
        pullRequest["merged"] = true;
        pullRequest["merged_at"] = pullRequest["closed_at"]?.DeepClone() ?? "2019-05-15T15:20:33Z";
        pullRequest["merged_by"] = payload["sender"]!.DeepClone();
        pullRequest["merge_commit_sha"] = mergeCommitSha;
        return payload;
    }

    private static JsonArray Load()
    {
        var path = RepositoryRoot.Combine("node_modules", "@octokit", "webhooks-examples", "api.github.com", "index.json");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{path} is missing: run 'npm ci' at the repository root (the test script does this).");
        }

        using var stream = File.OpenRead(path);
        return JsonNode.Parse(stream, documentOptions: new JsonDocumentOptions { MaxDepth = 256 })!.AsArray();
    }
}
