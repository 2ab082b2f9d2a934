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
        web.MapPut("/repos/{owner}/{repo}/pulls/{number:long}/update-branch", async (string owner, string repo, long number, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            if (State.PullRequest($"{owner}/{repo}", number) is not { } pull)
            {
                return NotFound();
            }

            var expected = (string?)body?["expected_head_sha"];
            if (expected is not null && !string.Equals(expected, pull.HeadSha, StringComparison.OrdinalIgnoreCase))
            {
                return ValidationFailed("expected head sha didn't match current head ref.", "https://docs.github.com/rest/pulls/pulls#update-a-pull-request-branch");
            }

            State.BranchUpdates.Enqueue((pull.Repository.FullName, number, expected));
            return Json(202, new JsonObject
            {
                ["message"] = "Updating pull request branch.",
                ["url"] = $"https://github.com/{pull.Repository.FullName}/pull/{number}",
            });
        });
    }
}
