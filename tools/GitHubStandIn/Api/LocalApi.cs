using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>
/// What only the stand-in has, under <c>/_standin/</c> (no GitHub route starts so; no token, no rate limit, no OpenAPI
/// check): a person's comment on a pull request, and what the app answered it, so a command can be tried locally.
/// </summary>
public sealed partial class StandInServer
{
    /// <summary>The demo conversation <c>serve</c> opens: pull request #1 of the local sample repository.</summary>
    public const string DemoRepository = "Codertocat/Hello-World";

    public const long DemoPullRequest = 1;

    /// <summary>
    /// Opens pull request #1 of <see cref="DemoRepository"/> by octocat from <c>changes</c> into <c>master</c> (the default
    /// branch of GitHub's example repository), approved by hubot; both have write access.
    /// </summary>
    public StandInPullRequest SeedDemo()
    {
        var repository = State.Repository("Codertocat", "Hello-World", "master");
        var pull = State.PullRequest(DemoRepository, DemoPullRequest)
            ?? State.OpenPullRequest(repository, DemoPullRequest, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", author: "octocat", headRef: "changes", baseRef: "master");
        State.Permissions[(DemoRepository, "octocat")] = "write";
        State.Permissions[(DemoRepository, "hubot")] = "write";
        State.Branches[(DemoRepository, "master")] = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
        if (State.LatestOpinionatedReviews(pull, writersOnly: true).Count == 0)
        {
            State.Review(pull, "hubot", "APPROVED");
        }

        return pull;
    }

    private void MapLocal(WebApplication web)
    {
        web.MapPost("/_standin/repos/{owner}/{repo}/pulls", async (string owner, string repo, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            if ((string?)body?["head"] is not { Length: > 0 } head || (string?)body["user"] is not { Length: > 0 } user)
            {
                return Json(422, new JsonObject { ["message"] = "send {\"head\": \"<branch>\", \"base\": \"<branch>\", \"user\": \"<login>\"}" });
            }

            var repository = State.Repository(owner, repo);
            var number = 1 + State.PullRequestsOf(repository.FullName).Select(p => p.Number).DefaultIfEmpty(0).Max();
            var pull = State.OpenPullRequest(repository, number, NewSha(), author: user, headRef: head,
                baseRef: (string?)body["base"] is { Length: > 0 } baseRef ? baseRef : repository.DefaultBranch);
            State.Permissions.TryAdd((repository.FullName, user), "write");
            return Json(201, LocalPull(pull));
        });
        web.MapPost("/_standin/repos/{owner}/{repo}/pulls/{number:long}/push", (string owner, string repo, long number) =>
        {
            if (State.PullRequest($"{owner}/{repo}", number) is not { } pull)
            {
                return Json(404, new JsonObject { ["message"] = $"the stand-in has no pull request #{number} in {owner}/{repo}" });
            }

            pull.HeadSha = NewSha();
            return Json(200, LocalPull(pull));
        });
        web.MapPost("/_standin/repos/{owner}/{repo}/pulls/{number:long}/reviews", async (string owner, string repo, long number, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            var verdict = (string?)body?["event"];
            if ((string?)body?["user"] is not { Length: > 0 } user || verdict is not ("APPROVE" or "REQUEST_CHANGES" or "COMMENT"))
            {
                return Json(422, new JsonObject { ["message"] = "send {\"user\": \"<login>\", \"event\": \"APPROVE\" | \"REQUEST_CHANGES\" | \"COMMENT\"}" });
            }

            if (State.PullRequest($"{owner}/{repo}", number) is not { } pull)
            {
                return Json(404, new JsonObject { ["message"] = $"the stand-in has no pull request #{number} in {owner}/{repo}" });
            }

            State.Permissions.TryAdd((pull.Repository.FullName, user), "write");
            State.Review(pull, user, verdict switch { "APPROVE" => "APPROVED", "REQUEST_CHANGES" => "CHANGES_REQUESTED", _ => "COMMENTED" });
            return Json(201, LocalPull(pull));
        });
        web.MapPost("/_standin/repos/{owner}/{repo}/issues/comments/{id:long}/reactions", async (string owner, string repo, long id, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            if ((string?)body?["user"] is not { Length: > 0 } user || (string?)body["content"] is not { Length: > 0 } content)
            {
                return Json(422, new JsonObject { ["message"] = "send {\"user\": \"<login>\", \"content\": \"+1\"}" });
            }

            if (!State.CommentsOf($"{owner}/{repo}").Any(c => c.Id == id))
            {
                return Json(404, new JsonObject { ["message"] = $"no comment {id} in {owner}/{repo}" });
            }

            State.React(id, user, content);
            return Json(201, new JsonObject { ["comment"] = id, ["user"] = user, ["content"] = content });
        });
        web.MapGet("/_standin/repos/{owner}/{repo}/pulls/{number:long}/conversation", (string owner, string repo, long number) =>
            State.PullRequest($"{owner}/{repo}", number) is { } pull
                ? Json(200, new JsonObject
                {
                    ["pull_request"] = LocalPull(pull),
                    ["comments"] = new JsonArray([.. State.CommentsOn(pull.Repository.FullName, number).Select(c => (JsonNode)new JsonObject
                    {
                        ["id"] = c.Id,
                        ["user"] = c.User,
                        ["body"] = c.Body,
                        ["reactions"] = new JsonArray([.. State.ReactionsOn(c.Id).Select(r => (JsonNode)r)]),
                    })]),
                })
                : Json(404, new JsonObject { ["message"] = $"the stand-in has no pull request #{number} in {owner}/{repo}" }));
        web.MapPost("/_standin/repos/{owner}/{repo}/pulls/{number:long}/comments", async (string owner, string repo, long number, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            if ((string?)body?["body"] is not { Length: > 0 } text || (string?)body["user"] is not { Length: > 0 } user)
            {
                return Json(422, new JsonObject { ["message"] = "send {\"user\": \"<login>\", \"body\": \"<comment>\"}" });
            }

            if (State.PullRequest($"{owner}/{repo}", number) is not { } pull)
            {
                return Json(404, new JsonObject { ["message"] = $"the stand-in has no pull request #{number} in {owner}/{repo}" });
            }

            var comment = Comment(pull, user, text);
            return Json(201, new JsonObject { ["id"] = comment.Id });
        });
        web.MapGet("/_standin/repos/{owner}/{repo}/issues/comments/{id:long}/answers", (string owner, string repo, long id) =>
        {
            StandInComment? comment;
            lock (State.Gate)
            {
                comment = State.Comments.FirstOrDefault(c => c.Id == id && string.Equals(c.Repository.FullName, $"{owner}/{repo}", StringComparison.OrdinalIgnoreCase));
            }

            if (comment is null)
            {
                return Json(404, new JsonObject { ["message"] = $"no comment {id} in {owner}/{repo}" });
            }

            var ours = State.CommentsOn(comment.Repository.FullName, comment.Number).Where(c => c.UserType == "Bot").ToList();
            return Json(200, new JsonObject
            {
                ["reactions"] = new JsonArray([.. State.ReactionsOn(id).Select(r => (JsonNode)r)]),
                ["replies"] = new JsonArray([.. ours.Where(c => c.Body.Contains($"deployfunctions:reply:{id}:", StringComparison.Ordinal)).Select(c => (JsonNode)c.Body)]),
                ["questions"] = new JsonArray([.. ours.Where(c => c.Body.Contains($"deployfunctions:confirm:{id}:", StringComparison.Ordinal))
                    .Select(c => (JsonNode)new JsonObject { ["id"] = c.Id, ["body"] = c.Body })]),
            });
        });
    }

    private static JsonObject LocalPull(StandInPullRequest pull) => new()
    {
        ["number"] = pull.Number,
        ["repository"] = pull.Repository.FullName,
        ["author"] = pull.Author,
        ["head"] = pull.HeadRef,
        ["head_sha"] = pull.HeadSha,
        ["base"] = pull.BaseRef,
    };

    /// <summary>A commit id no other commit of the stand-in has.</summary>
    private static string NewSha() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
}
