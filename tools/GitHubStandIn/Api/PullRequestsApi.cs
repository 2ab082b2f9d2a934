using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>Pull requests and their reviews.</summary>
public sealed partial class StandInServer
{
    private void MapPullRequests(WebApplication web)
    {
        web.MapGet("/repos/{owner}/{repo}/pulls/{number:long}", (string owner, string repo, long number) =>
            State.PullRequest($"{owner}/{repo}", number) is { } pull ? Json(200, GitHubShapes.PullRequest(BaseAddress, pull)) : NotFound());
        web.MapGet("/repos/{owner}/{repo}/pulls/{number:long}/reviews", (string owner, string repo, long number) =>
        {
            if (State.PullRequest($"{owner}/{repo}", number) is not { } pull)
            {
                return NotFound();
            }

            lock (State.Gate)
            {
                return Json(200, new JsonArray([.. pull.Reviews.Select(r => (JsonNode)GitHubShapes.Review(BaseAddress, pull, r))]));
            }
        });
    }
}
