using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>A repository the stand-in serves (its id and default branch as GitHub reports them).</summary>
public sealed record StandInRepository(string Owner, string Name, long Id, string DefaultBranch)
{
    /// <summary>A fork of another repository (a pull request's head may live in one).</summary>
    public bool Fork { get; init; }

    public string FullName => $"{Owner}/{Name}";
}

public sealed class StandInDeployment
{
    public required long Id { get; init; }
    public required StandInRepository Repository { get; init; }
    public required string Sha { get; init; }
    public required string Ref { get; init; }
    public required string Task { get; init; }
    public required string Environment { get; init; }
    public string? Description { get; init; }
    public JsonNode? Payload { get; init; }
    public required string Creator { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The request body as the client sent it, for tests to assert on.</summary>
    public required JsonObject Request { get; init; }

    public List<StandInStatus> Statuses { get; } = [];
}

public sealed record StandInStatus(
    long Id, string State, string? Description, string? Environment, string? LogUrl, string? EnvironmentUrl, DateTimeOffset CreatedAt)
{
    /// <summary>Who posted it: the login behind the token of the request (the app's bot unless a test says otherwise).</summary>
    public string Creator { get; init; } = StandInState.AppLogin;
}

/// <summary>A check run on a commit (GitHub Actions reports only as check runs).</summary>
public sealed record StandInCheckRun(long Id, string Name, string Status, string? Conclusion);

/// <summary>A workflow run started by a <c>workflow_dispatch</c>.</summary>
public sealed class StandInWorkflowRun
{
    public required long Id { get; init; }
    public required StandInRepository Repository { get; init; }

    /// <summary>The workflow file, e.g. <c>deploy.yml</c>.</summary>
    public required string Workflow { get; init; }

    /// <summary>The branch or tag it runs from.</summary>
    public required string Ref { get; init; }

    public required JsonObject Inputs { get; init; }

    /// <summary>What <c>run-name</c> made of the inputs (the workflow's name when it has none).</summary>
    public required string DisplayTitle { get; init; }

    public required string Actor { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public string Status { get; set; } = "queued";
    public string? Conclusion { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A pull request: its head may be in another repository (a fork).</summary>
public sealed class StandInPullRequest
{
    public required StandInRepository Repository { get; init; }
    public required long Number { get; init; }
    public required string Title { get; init; }
    public required string Author { get; init; }
    public string State { get; set; } = "open";
    public required string HeadSha { get; set; }
    public required string HeadRef { get; init; }

    /// <summary>Where the head branch lives: the repository itself, or a fork.</summary>
    public required StandInRepository HeadRepository { get; init; }

    public required string BaseRef { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it last changed (a push, a close); null: when it was created.</summary>
    public DateTimeOffset? UpdatedAt { get; set; }

    public DateTimeOffset? ClosedAt { get; set; }
    public bool Merged { get; set; }
    public List<StandInReview> Reviews { get; } = [];

    /// <summary>The head's repository was deleted (a fork gone): GitHub then reports no head repository.</summary>
    public bool HeadRepositoryDeleted { get; set; }

    public bool Draft { get; set; }

    /// <summary>
    /// GitHub's own verdict on the reviews for the base branch's rules (<c>APPROVED</c>, <c>CHANGES_REQUESTED</c>,
    /// <c>REVIEW_REQUIRED</c>); null when the branch requires no review, as GitHub answers then.
    /// </summary>
    public string? ReviewDecision { get; set; }

    /// <summary>The checks (check run names and status contexts) the base branch's protection or rulesets require.</summary>
    public HashSet<string> RequiredChecks { get; } = new(StringComparer.Ordinal);

    /// <summary>Who GitHub names as the head commit's git author (a login); null: the pull request's author.</summary>
    public string? HeadCommitAuthor { get; set; }

    /// <summary>
    /// The pull request's commits as GitHub lists them: by date, oldest first, so a commit dated in the past can be listed after
    /// the head. Null: the head alone.
    /// </summary>
    public List<string>? ListedCommits { get; set; }
}

public sealed record StandInReview(long Id, string User, string State, string CommitId, DateTimeOffset SubmittedAt);

public sealed record StandInComment(long Id, StandInRepository Repository, long Number, string User, string UserType, string Body, DateTimeOffset CreatedAt)
{
    /// <summary>When it was last edited (<c>PATCH</c>); null: never.</summary>
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>How many times it was edited.</summary>
    public int Edits { get; init; }
}

/// <summary>One attempt to deliver a webhook, as the hook's "Recent Deliveries" log keeps it.</summary>
public sealed record StandInDelivery(
    long Id, string DeliveryGuid, string Event, string? Action, int StatusCode, DateTimeOffset DeliveredAt, bool Redelivery, JsonObject Payload);

public sealed record StandInReaction(long Id, long CommentId, string Content, string User, DateTimeOffset CreatedAt, string UserType = "Bot");

/// <summary>One request the stand-in received, as it arrived.</summary>
public sealed record RecordedRequest(
    string Method, string Path, string Query, string Body, string? Authorization, DateTimeOffset At, int Status)
{
    /// <summary>The request's <c>User-Agent</c> (GitHub requires one).</summary>
    public string? UserAgent { get; init; }
}

/// <summary>A scripted answer for the next request matching <see cref="Method"/> and <see cref="PathSuffix"/>.</summary>
public sealed record Fault(string Method, string PathSuffix, int Status, string Body = "{}")
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Wait this long before answering (to exceed a client's timeout).</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Only a request whose body holds this text (e.g. <c>"state":"success"</c>) gets the fault.</summary>
    public string? BodyContains { get; init; }

    /// <summary>
    /// GitHub does the work (the request is handled, its webhooks go out), but the answer is held back for
    /// <see cref="Delay"/>: an answer lost on the way back. <see cref="Status"/> and <see cref="Body"/> are not used.
    /// </summary>
    public bool AfterHandling { get; init; }
}
