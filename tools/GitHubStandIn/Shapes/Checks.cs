using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub's shapes: check runs.</summary>
public static partial class GitHubShapes
{
    /// <summary>GitHub's <c>check-run</c>, as GitHub Actions reports a job.</summary>
    public static JsonObject CheckRun(Uri api, StandInRepository repository, string sha, StandInCheckRun run) => new()
    {
        ["id"] = run.Id,
        ["node_id"] = NodeId("CR", run.Id),
        ["head_sha"] = sha,
        ["external_id"] = "",
        ["url"] = new Uri(api, $"repos/{repository.FullName}/check-runs/{run.Id}").ToString(),
        ["html_url"] = $"https://github.com/{repository.FullName}/runs/{run.Id}",
        ["details_url"] = $"https://github.com/{repository.FullName}/actions/runs/{run.Id}/job/{run.Id}",
        ["status"] = run.Status,
        ["conclusion"] = run.Conclusion,
        ["started_at"] = "2026-01-01T00:00:00Z",
        ["completed_at"] = run.Status == "completed" ? "2026-01-01T00:01:00Z" : null,
        ["output"] = new JsonObject { ["title"] = null, ["summary"] = null, ["text"] = null, ["annotations_count"] = 0, ["annotations_url"] = new Uri(api, $"repos/{repository.FullName}/check-runs/{run.Id}/annotations").ToString() },
        ["name"] = run.Name,
        ["check_suite"] = new JsonObject { ["id"] = run.Id + 1 },
        ["app"] = App(api, 15368, "github-actions", "github"),
        ["pull_requests"] = new JsonArray(),
    };
}
