using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>Check runs of a commit (<c>GET /repos/{owner}/{repo}/commits/{ref}/check-runs</c>).</summary>
public sealed partial class StandInServer
{
    private void MapChecks(WebApplication web) =>
        web.MapGet("/repos/{owner}/{repo}/commits/{reference}/check-runs", (string owner, string repo, string reference) =>
        {
            var repository = State.Repository(owner, repo);
            var runs = State.CheckRuns.TryGetValue(reference, out var known) ? known : [];
            JsonArray list;
            lock (runs)
            {
                list = [.. runs.Select(run => (JsonNode)GitHubShapes.CheckRun(BaseAddress, repository, reference, run))];
            }

            return Json(200, new JsonObject { ["total_count"] = list.Count, ["check_runs"] = list });
        });
}
