using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub App endpoints: a repository's installation and installation tokens.</summary>
public sealed partial class StandInServer
{
    private void MapApps(WebApplication web)
    {
        web.MapGet("/app", (HttpContext context) => IsAppJwt(context)
            ? Json(200, GitHubShapes.App(BaseAddress, 12345, StandInState.AppSlug, "octo"))
            : Json(401, new JsonObject { ["message"] = "A JSON web token could not be decoded" }));
        web.MapGet("/repos/{owner}/{repo}/installation", (string owner, string repo, HttpContext context) =>
        {
            if (!IsAppJwt(context))
            {
                return Json(401, new JsonObject { ["message"] = "A JSON web token could not be decoded" });
            }

            return State.InstallationOn($"{owner}/{repo}") is { } installation
                ? Json(200, GitHubShapes.Installation(BaseAddress, installation, 12345, owner))
                : NotFound();
        });
        web.MapPost("/app/installations/{id:long}/access_tokens", (long id, HttpContext context) =>
        {
            if (!IsAppJwt(context))
            {
                return Json(401, new JsonObject { ["message"] = "A JSON web token could not be decoded" });
            }

            if (State.IsUninstalled(id))
            {
                return NotFound();
            }

            return Json(201, new JsonObject
            {
                ["token"] = State.IssueInstallationToken(id),
                ["expires_at"] = GitHubShapes.Time(options.Clock.GetUtcNow().AddHours(1)),
                ["permissions"] = new JsonObject { ["deployments"] = "write", ["metadata"] = "read", ["pull_requests"] = "read" },
                ["repository_selection"] = "all",
            });
        });
    }
}
