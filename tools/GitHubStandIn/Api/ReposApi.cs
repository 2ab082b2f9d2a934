using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>Repository resources: collaborators, teams, branches, contents and commit statuses.</summary>
public sealed partial class StandInServer
{
    private void MapRepos(WebApplication web)
    {
        web.MapGet("/repos/{owner}/{repo}/collaborators/{user}/permission", (string owner, string repo, string user) =>
            State.Permissions.TryGetValue(($"{owner}/{repo}", user), out var role)
                ? Json(200, GitHubShapes.CollaboratorPermission(BaseAddress, user, role))
                : Json(404, new JsonObject { ["message"] = $"{user} is not a user", ["documentation_url"] = "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user" }));
        web.MapGet("/orgs/{org}/teams/{team}/memberships/{user}", (string org, string team, string user) =>
            State.TeamMembers.ContainsKey((org, team, user))
                ? Json(200, GitHubShapes.TeamMembership(BaseAddress, org, team, user))
                : Results.StatusCode(404)); // GitHub's description: "if user has no team membership", no body
        web.MapGet("/repos/{owner}/{repo}/branches/{branch}", (string owner, string repo, string branch) =>
            State.Branches.TryGetValue(($"{owner}/{repo}", branch), out var sha)
                ? Json(200, GitHubShapes.Branch(BaseAddress, State.Repository(owner, repo), branch, sha))
                : Json(404, new JsonObject { ["message"] = "Branch not found", ["documentation_url"] = "https://docs.github.com/rest/branches/branches#get-a-branch" }));
        web.MapGet("/repos/{owner}/{repo}/compare/{**basehead}", (string owner, string repo, string basehead) =>
        {
            var parts = Uri.UnescapeDataString(basehead).Split("...", 2);
            if (parts.Length != 2)
            {
                return Json(404, new JsonObject { ["message"] = "Not Found", ["documentation_url"] = "https://docs.github.com/rest/commits/commits#compare-two-commits" });
            }

            var repository = State.Repository(owner, repo);
            var behind = State.Behind.GetValueOrDefault((repository.FullName, parts[0], parts[1]));
            var baseSha = State.Branches.TryGetValue((repository.FullName, parts[0]), out var branchHead) ? branchHead : parts[0];
            return Json(200, GitHubShapes.Comparison(BaseAddress, repository, parts[0], baseSha, parts[1], aheadBy: 1, behindBy: behind));
        });
        web.MapGet("/repos/{owner}/{repo}/contents/{**path}", (string owner, string repo, string path, HttpContext context) =>
        {
            if (State.FileAt($"{owner}/{repo}", context.Request.Query["ref"].FirstOrDefault() ?? "", path) is not { } text)
            {
                return Json(404, new JsonObject { ["message"] = "Not Found", ["documentation_url"] = "https://docs.github.com/rest/repos/contents#get-repository-content", ["status"] = "404" });
            }

            var bytes = Encoding.UTF8.GetBytes(text);
#pragma warning disable CA5350 // git names a blob by the SHA-1 of its content; this is that name, not security
            var blob = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"blob {bytes.Length}\0{text}")));
#pragma warning restore CA5350
            var etag = $"W/\"{blob}\"";
            context.Response.Headers.ETag = etag;
            // A conditional request for what the client has: 304, no body, not counted against the rate limit.
            return context.Request.Headers.IfNoneMatch.Contains(etag)
                ? Results.StatusCode(304)
                : Json(200, GitHubShapes.ContentFile(BaseAddress, State.Repository(owner, repo), path, bytes, blob));
        });
        web.MapGet("/repos/{owner}/{repo}/commits", (string owner, string repo, string? sha, string? path, HttpContext context) =>
        {
            // The commits of a branch that touched a path, newest first: the file's last change, or none while it never existed.
            // The stand-in keeps one version per file and ref, so its last change is named after its content.
            var repository = State.Repository(owner, repo);
            var text = path is null ? null : State.FileAt(repository.FullName, sha ?? repository.DefaultBranch, path);
#pragma warning disable CA5350 // a made-up commit id derived from the content, as stable as git's for the same change
            var last = text is null ? null : Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"commit {repository.FullName} {sha} {path}\0{text}")));
            var etag = $"W/\"{last ?? Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"none {repository.FullName} {sha} {path}")))}\"";
#pragma warning restore CA5350
            context.Response.Headers.ETag = etag;
            return context.Request.Headers.IfNoneMatch.Contains(etag)
                ? Results.StatusCode(304)
                : Json(200, last is null ? new JsonArray() : new JsonArray(GitHubShapes.Commit(BaseAddress, repository, last, $"Change {path}")));
        });
        web.MapPost("/repos/{owner}/{repo}/statuses/{sha}", async (string owner, string repo, string sha, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            var state = (string?)body?["state"];
            if (state is not ("error" or "failure" or "pending" or "success"))
            {
                return ValidationFailed("Validation Failed: state is not included in the list", "https://docs.github.com/rest/commits/statuses#create-a-commit-status");
            }

            var context_ = (string?)body!["context"] ?? "default";
            var description = (string?)body["description"];
            State.CommitStatuses.Enqueue(($"{owner}/{repo}", sha, state, context_, description));
            return Json(201, GitHubShapes.CommitStatus(BaseAddress, State.Repository(owner, repo), sha, State.NextId(), state, context_, description, options.Clock.GetUtcNow()));
        });
        web.MapGet("/repos/{owner}/{repo}/commits/{reference}/status", (string owner, string repo, string reference) =>
            Json(200, GitHubShapes.CombinedStatus(BaseAddress, State.Repository(owner, repo), reference,
                State.CombinedStatuses.TryGetValue(reference, out var combined) ? combined : null, options.Clock.GetUtcNow())));
    }
}
