using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub's shapes: commit statuses.</summary>
public static partial class GitHubShapes
{
    /// <summary>GitHub's <c>combined-commit-status</c>; no status known: <c>pending</c> with none, as GitHub answers.</summary>
    public static JsonObject CombinedStatus(Uri api, StandInRepository repository, string sha, (string State, string Context)? status, DateTimeOffset at)
    {
        var statuses = new JsonArray();
        if (status is { } known)
        {
            statuses.Add(new JsonObject
            {
                ["url"] = new Uri(api, $"repos/{repository.FullName}/statuses/{sha}").ToString(),
                ["avatar_url"] = null,
                ["id"] = 1,
                ["node_id"] = NodeId("SC", 1),
                ["state"] = known.State,
                ["description"] = null,
                ["target_url"] = null,
                ["context"] = known.Context,
                ["created_at"] = Time(at),
                ["updated_at"] = Time(at),
            });
        }

        return new JsonObject
        {
            ["state"] = status?.State ?? "pending",
            ["statuses"] = statuses,
            ["sha"] = sha,
            ["total_count"] = statuses.Count,
            ["repository"] = Repository(api, repository),
            ["commit_url"] = new Uri(api, $"repos/{repository.FullName}/commits/{sha}").ToString(),
            ["url"] = new Uri(api, $"repos/{repository.FullName}/commits/{sha}/status").ToString(),
        };
    }

    /// <summary>GitHub's <c>status</c> (a commit status).</summary>
    public static JsonObject CommitStatus(Uri api, StandInRepository repository, string sha, long id, string state, string context, string? description, DateTimeOffset at) => new()
    {
        ["url"] = new Uri(api, $"repos/{repository.FullName}/statuses/{sha}").ToString(),
        ["avatar_url"] = "https://avatars.githubusercontent.com/u/9000?v=4",
        ["id"] = id,
        ["node_id"] = NodeId("SC", id),
        ["state"] = state,
        ["description"] = description,
        ["target_url"] = null,
        ["context"] = context,
        ["created_at"] = Time(at),
        ["updated_at"] = Time(at),
        ["creator"] = Person(api, "deployfunctions-standin[bot]", "Bot"),
    };
}
