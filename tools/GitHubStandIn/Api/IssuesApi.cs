using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>Issue comments (a pull request is an issue) and their reactions.</summary>
public sealed partial class StandInServer
{
    private void MapIssues(WebApplication web)
    {
        web.MapGet("/repos/{owner}/{repo}/issues/{number:long}/comments", (string owner, string repo, long number, DateTimeOffset? since) =>
            Json(200, new JsonArray([.. State.CommentsOn($"{owner}/{repo}", number)
                .Where(c => since is null || (c.UpdatedAt ?? c.CreatedAt) >= since)
                .Select(c => (JsonNode)GitHubShapes.Comment(BaseAddress, c))])));
        web.MapPost("/repos/{owner}/{repo}/issues/{number:long}/comments", async (string owner, string repo, long number, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            if ((string?)body?["body"] is not { Length: > 0 } text)
            {
                return ValidationFailed("Invalid request.\n\n\"body\" wasn't supplied.", "https://docs.github.com/rest/issues/comments#create-an-issue-comment");
            }

            if (State.PullRequest($"{owner}/{repo}", number) is not { } pull)
            {
                return NotFound();
            }

            // Comments made through the API are the app's own: its bot user, as for an installation token.
            var comment = State.AddComment(pull.Repository, number, AppUser, "Bot", text, options.Clock.GetUtcNow());
            AnnounceComment(pull, comment);
            return Json(201, GitHubShapes.Comment(BaseAddress, comment));
        });
        web.MapPatch("/repos/{owner}/{repo}/issues/comments/{id:long}", async (string owner, string repo, long id, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            if ((string?)body?["body"] is not { Length: > 0 } text)
            {
                return ValidationFailed("Invalid request.\n\n\"body\" wasn't supplied.", "https://docs.github.com/rest/issues/comments#update-an-issue-comment");
            }

            lock (State.Gate)
            {
                var index = State.Comments.FindIndex(c => c.Id == id && string.Equals(c.Repository.FullName, $"{owner}/{repo}", StringComparison.OrdinalIgnoreCase));
                if (index < 0)
                {
                    return NotFound();
                }

                // Only its author edits a comment (the app edits its own).
                if (State.Comments[index].User != AppUser)
                {
                    return Json(403, new JsonObject { ["message"] = "Resource not accessible by integration", ["documentation_url"] = "https://docs.github.com/rest/issues/comments#update-an-issue-comment", ["status"] = "403" });
                }

                var edited = State.Comments[index] with { Body = text, UpdatedAt = options.Clock.GetUtcNow(), Edits = State.Comments[index].Edits + 1 };
                State.Comments[index] = edited;
                return Json(200, GitHubShapes.Comment(BaseAddress, edited));
            }
        });
        web.MapGet("/repos/{owner}/{repo}/issues/comments/{id:long}/reactions", (string owner, string repo, long id) =>
        {
            lock (State.Gate)
            {
                return State.Comments.Any(c => c.Id == id && string.Equals(c.Repository.FullName, $"{owner}/{repo}", StringComparison.OrdinalIgnoreCase))
                    ? Json(200, new JsonArray([.. State.Reactions.Where(r => r.CommentId == id).OrderBy(r => r.Id).Select(r => (JsonNode)GitHubShapes.Reaction(BaseAddress, r))]))
                    : NotFound();
            }
        });
        web.MapPost("/repos/{owner}/{repo}/issues/comments/{id:long}/reactions", async (string owner, string repo, long id, HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            var content = (string?)body?["content"];
            string[] contents = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"];
            if (content is null || !contents.Contains(content))
            {
                return ValidationFailed("Validation Failed: content is not included in the list", "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment");
            }

            lock (State.Gate)
            {
                if (!State.Comments.Any(c => c.Id == id && string.Equals(c.Repository.FullName, $"{owner}/{repo}", StringComparison.OrdinalIgnoreCase)))
                {
                    return NotFound();
                }

                // One reaction of a kind per user: GitHub answers 200 with the existing one.
                if (State.Reactions.FirstOrDefault(r => r.CommentId == id && r.Content == content && r.User == AppUser) is { } existing)
                {
                    return Json(200, GitHubShapes.Reaction(BaseAddress, existing));
                }

                var reaction = new StandInReaction(State.NextId(), id, content, AppUser, options.Clock.GetUtcNow());
                State.Reactions.Add(reaction);
                return Json(201, GitHubShapes.Reaction(BaseAddress, reaction));
            }
        });
    }

    private const string AppUser = "deployfunctions-standin[bot]";

    /// <summary>
    /// A person comments on a pull request, as on github.com: the comment is stored and GitHub's signed
    /// <c>issue_comment</c> <c>created</c> webhook goes to the app.
    /// </summary>
    public StandInComment Comment(StandInPullRequest pull, string user, string body)
    {
        ArgumentNullException.ThrowIfNull(pull);
        var comment = State.AddComment(pull.Repository, pull.Number, user, "User", body, options.Clock.GetUtcNow());
        AnnounceComment(pull, comment);
        return comment;
    }

    /// <summary>The <c>issue_comment</c> <c>created</c> payload of a comment (shape: @octokit/openapi-webhooks).</summary>
    public JsonObject CommentPayload(StandInPullRequest pull, StandInComment comment)
    {
        ArgumentNullException.ThrowIfNull(pull);
        ArgumentNullException.ThrowIfNull(comment);
        return new JsonObject
        {
            ["action"] = "created",
            ["issue"] = GitHubShapes.PullRequestIssue(BaseAddress, pull),
            ["comment"] = GitHubShapes.Comment(BaseAddress, comment),
            ["repository"] = GitHubShapes.Repository(BaseAddress, pull.Repository),
            ["sender"] = GitHubShapes.Person(BaseAddress, comment.User, comment.UserType),
        };
    }

    private void AnnounceComment(StandInPullRequest pull, StandInComment comment) => Announce("issue_comment", CommentPayload(pull, comment));
}
