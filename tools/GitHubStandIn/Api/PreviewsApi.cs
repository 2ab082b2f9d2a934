using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>What previews use: environments deleted (REST), and pull requests opened, pushed to, closed and reopened (webhooks).</summary>
public sealed partial class StandInServer
{
    private void MapEnvironments(WebApplication web) =>
        web.MapDelete("/repos/{owner}/{repo}/environments/{environment}", (string owner, string repo, string environment) =>
        {
            State.DeletedEnvironments.Enqueue(($"{owner}/{repo}", Uri.UnescapeDataString(environment)));
            return Results.StatusCode(204);
        });

    /// <summary>A pull request is opened, as on github.com: GitHub's signed <c>pull_request</c> <c>opened</c> webhook goes to the app.</summary>
    public void Opened(StandInPullRequest pull) => AnnouncePull(pull, "opened", pull.Author);

    /// <summary>
    /// Someone pushes <paramref name="sha"/> to the pull request's branch: its head moves, <c>updated_at</c> with it, and the
    /// <c>synchronize</c> webhook (with <c>before</c> and <c>after</c>) goes to the app.
    /// </summary>
    public void Push(StandInPullRequest pull, string sha, string? pusher = null)
    {
        ArgumentNullException.ThrowIfNull(pull);
        string before;
        lock (State.Gate)
        {
            before = pull.HeadSha;
            pull.HeadSha = sha;
            pull.UpdatedAt = Later(pull);
        }

        AnnouncePull(pull, "synchronize", pusher ?? pull.Author, before, sha);
    }

    /// <summary>The pull request is closed (or merged); the <c>closed</c> webhook goes to the app unless <paramref name="deliver"/> is false (a lost delivery).</summary>
    public void Close(StandInPullRequest pull, bool merged = false, bool deliver = true)
    {
        ArgumentNullException.ThrowIfNull(pull);
        lock (State.Gate)
        {
            pull.State = "closed";
            pull.Merged = merged;
            pull.UpdatedAt = pull.ClosedAt = Later(pull);
        }

        if (deliver)
        {
            AnnouncePull(pull, "closed", pull.Author);
        }
    }

    public void Reopen(StandInPullRequest pull)
    {
        ArgumentNullException.ThrowIfNull(pull);
        lock (State.Gate)
        {
            pull.State = "open";
            pull.ClosedAt = null;
            pull.UpdatedAt = Later(pull);
        }

        AnnouncePull(pull, "reopened", pull.Author);
    }

    /// <summary>
    /// The <c>pull_request</c> payload of an action (shape: @octokit/openapi-webhooks, <c>pull-request-&lt;action&gt;</c>):
    /// <c>synchronize</c> carries <c>before</c> and <c>after</c>.
    /// </summary>
    public JsonObject PullRequestPayload(StandInPullRequest pull, string action, string sender, string? before = null, string? after = null)
    {
        ArgumentNullException.ThrowIfNull(pull);
        JsonObject payload;
        lock (State.Gate)
        {
            payload = new JsonObject
            {
                ["action"] = action,
                ["number"] = pull.Number,
                ["pull_request"] = GitHubShapes.PullRequest(BaseAddress, pull),
                ["repository"] = GitHubShapes.Repository(BaseAddress, pull.Repository),
                ["sender"] = GitHubShapes.Person(BaseAddress, sender),
            };
        }

        if (before is not null && after is not null)
        {
            payload["before"] = before;
            payload["after"] = after;
        }

        return payload;
    }

    private void AnnouncePull(StandInPullRequest pull, string action, string sender, string? before = null, string? after = null) =>
        Announce("pull_request", PullRequestPayload(pull, action, sender, before, after));

    /// <summary>A time after every earlier change of the pull request (GitHub's times are whole seconds).</summary>
    private DateTimeOffset Later(StandInPullRequest pull)
    {
        var now = options.Clock.GetUtcNow();
        var last = pull.UpdatedAt ?? pull.CreatedAt;
        return now > last.AddSeconds(1) ? now : last.AddSeconds(1);
    }
}

/// <summary>Environments deleted through the REST API.</summary>
public sealed partial class StandInState
{
    public ConcurrentQueue<(string Repository, string Environment)> DeletedEnvironments { get; } = new();
}
