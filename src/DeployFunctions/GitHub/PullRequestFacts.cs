using System.Text.Json;
using Octokit;

namespace DeployFunctions.GitHub;

/// <summary>One check of a commit: a check run (GitHub Actions reports only these) or a commit status, as GitHub rolls them up.</summary>
/// <param name="Name">The check run's name or the status's context.</param>
/// <param name="State"><c>success</c>, <c>pending</c> or <c>failure</c>.</param>
/// <param name="Required">The base branch's protection or rulesets require it.</param>
/// <param name="Url">Where a person can see it.</param>
public sealed record CommitCheck(string Name, string State, bool Required, string? Url)
{
    public const string Success = "success";
    public const string Pending = "pending";
    public const string Failure = "failure";
}

/// <summary>
/// What GitHub knows about a pull request that decides a command, read in one GraphQL query: its state, head and base, whether
/// its head is in another repository, GitHub's own verdict on its reviews for the base branch (<c>reviewDecision</c>: required
/// review counts, code owners and dismissed stale reviews applied), each writer's latest opinionated review (reviews by people
/// without write access never count), and every check of its head commit (check runs and commit statuses together).
/// </summary>
public sealed record PullRequestFacts
{
    public required long Number { get; init; }

    /// <summary><c>OPEN</c>, <c>CLOSED</c> or <c>MERGED</c>.</summary>
    public required string State { get; init; }

    public required bool Draft { get; init; }
    public required string HeadSha { get; init; }
    public required string HeadRef { get; init; }
    public required string BaseRef { get; init; }

    /// <summary>The head is in another repository, or its repository was deleted.</summary>
    public required bool FromFork { get; init; }

    /// <summary><c>owner/name</c> of the head's repository; null when it was deleted.</summary>
    public string? HeadRepository { get; init; }

    /// <summary><c>APPROVED</c>, <c>CHANGES_REQUESTED</c>, <c>REVIEW_REQUIRED</c>, or null when the base branch requires no review.</summary>
    public string? ReviewDecision { get; init; }

    /// <summary>People with write access whose latest review approves the head commit itself.</summary>
    public required IReadOnlyList<string> ApprovedBy { get; init; }

    /// <summary>People with write access whose latest review requests changes.</summary>
    public required IReadOnlyList<string> ChangesRequestedBy { get; init; }

    /// <summary>Each writer's latest review when it approves, and the commit it approved (any commit, not only the head).</summary>
    public IReadOnlyList<(string Login, string? Commit)> Approvals { get; init; } = [];

    /// <summary>People with write access whose latest review approves <paramref name="sha"/> itself.</summary>
    public IReadOnlyList<string> ApprovedAt(string sha) =>
        [.. Approvals.Where(a => string.Equals(a.Commit, sha, StringComparison.OrdinalIgnoreCase)).Select(a => a.Login)];

    /// <summary>The head commit's checks; empty when it has none.</summary>
    public required IReadOnlyList<CommitCheck> Checks { get; init; }

    /// <summary>The GitHub users GitHub names as the head commit's author and committer.</summary>
    public IReadOnlyList<string> HeadAuthors { get; init; } = [];

    public bool IsOpen => State == "OPEN";

    /// <summary>How many pages of checks are read (100 each); a head with more is not deployed.</summary>
    public const int MaxCheckPages = 10;

    private const string CheckFields = """
        pageInfo { hasNextPage endCursor }
        nodes {
          __typename
          ... on CheckRun { name status conclusion detailsUrl isRequired(pullRequestNumber: $number) }
          ... on StatusContext { context state targetUrl isRequired(pullRequestNumber: $number) }
        }
        """;

    private const string CommitFields = "oid author { user { login } } committer { user { login } }";

    private const string Query = $$"""
        query($owner: String!, $name: String!, $number: Int!) {
          repository(owner: $owner, name: $name) {
            pullRequest(number: $number) {
              number state isDraft headRefOid headRefName baseRefName isCrossRepository
              headRepository { nameWithOwner }
              reviewDecision
              latestOpinionatedReviews(first: 100, writersOnly: true) { nodes { state author { login } commit { oid } } }
              commits(last: 1) { nodes { commit { {{CommitFields}} statusCheckRollup { contexts(first: 100) { {{CheckFields}} } } } } }
            }
          }
        }
        """;

    /// <summary>The head commit by its id, and a page of its checks: when the pull request's last listed commit is not its head, or it has more than 100 checks.</summary>
    private const string HeadQuery = $$"""
        query($owner: String!, $name: String!, $number: Int!, $oid: GitObjectID!, $after: String) {
          repository(owner: $owner, name: $name) {
            object(oid: $oid) { ... on Commit { {{CommitFields}} statusCheckRollup { contexts(first: 100, after: $after) { {{CheckFields}} } } } }
          }
        }
        """;

    /// <summary>The pull request's facts, or null when GitHub has no such pull request.</summary>
    public static async Task<PullRequestFacts?> ReadAsync(IGitHubClient github, string repository, long number, CancellationToken cancellationToken)
    {
        var (owner, name) = GitHubNames.Split(repository);
        var data = await GitHubGraphQL.QueryAsync(github, Query,
            new Dictionary<string, object> { ["owner"] = owner, ["name"] = name, ["number"] = number }, cancellationToken);
        if (data.GetProperty("repository") is not { ValueKind: JsonValueKind.Object } repo ||
            repo.GetProperty("pullRequest") is not { ValueKind: JsonValueKind.Object } pull)
        {
            return null;
        }

        var facts = Read(pull);
        var head = facts.HeadSha;
        var listed = Nodes(pull.GetProperty("commits")).Select(c => c.GetProperty("commit")).FirstOrDefault();
        var (checks, cursor) = ChecksOf(listed);

        if (string.Equals(Text(listed, "oid"), head, StringComparison.OrdinalIgnoreCase) && cursor is null)
        {
            return facts with { Checks = checks, HeadAuthors = Authors(listed) };
        }

        // GitHub lists a pull request's commits by date (at most 250): the last one listed need not be the head. The head's
        // checks are read by its id then, and every page of them.
        var known = string.Equals(Text(listed, "oid"), head, StringComparison.OrdinalIgnoreCase);
        var (read, authors) = await CommitChecksAsync(github, owner, name, number, head, known ? checks : [], known ? cursor : null, known, cancellationToken);
        return facts with { Checks = read, HeadAuthors = authors.Count > 0 ? authors : Authors(listed) };
    }

    /// <summary>
    /// Every check of one commit of the pull request (<c>.deploy &lt;sha&gt;</c> deploys one that is not its head), with
    /// <c>isRequired</c> answered for the pull request's base branch.
    /// </summary>
    public static async Task<IReadOnlyList<CommitCheck>> ChecksOfCommitAsync(
        IGitHubClient github, string repository, long number, string sha, CancellationToken cancellationToken)
    {
        var (owner, name) = GitHubNames.Split(repository);
        return (await CommitChecksAsync(github, owner, name, number, sha, [], null, false, cancellationToken)).Checks;
    }

    /// <summary>
    /// The checks of <paramref name="oid"/> read by its id, page after page from <paramref name="cursor"/> (after the
    /// <paramref name="checks"/> read so far when <paramref name="started"/>), and its authors when the first page is read here.
    /// </summary>
    private static async Task<(List<CommitCheck> Checks, IReadOnlyList<string> Authors)> CommitChecksAsync(
        IGitHubClient github, string owner, string name, long number, string oid, List<CommitCheck> checks, string? cursor, bool started,
        CancellationToken cancellationToken)
    {
        var authors = (IReadOnlyList<string>)[];
        for (var page = started ? 1 : 0; page == 0 || cursor is not null; page++)
        {
            if (page == MaxCheckPages)
            {
                checks.Add(new CommitCheck($"more than {MaxCheckPages * 100} checks", CommitCheck.Failure, true, null));
                break;
            }

            var variables = new Dictionary<string, object> { ["owner"] = owner, ["name"] = name, ["number"] = number, ["oid"] = oid };
            if (cursor is not null)
            {
                variables["after"] = cursor;
            }

            var commit = (await GitHubGraphQL.QueryAsync(github, HeadQuery, variables, cancellationToken)).GetProperty("repository").GetProperty("object");
            if (page == 0)
            {
                authors = Authors(commit);
            }

            (var read, cursor) = ChecksOf(commit);
            checks.AddRange(read);
        }

        return (checks, authors);
    }

    internal static PullRequestFacts Read(JsonElement pull)
    {
        var head = pull.GetProperty("headRefOid").GetString()!;
        var reviews = Nodes(pull.GetProperty("latestOpinionatedReviews"))
            .Select(r => (State: r.GetProperty("state").GetString(), Login: Login(r), Commit: Text(r, "commit", "oid")))
            .Where(r => r.Login is not null)
            .ToList();
        return new PullRequestFacts
        {
            Number = pull.GetProperty("number").GetInt64(),
            State = pull.GetProperty("state").GetString()!,
            Draft = pull.GetProperty("isDraft").GetBoolean(),
            HeadSha = head,
            HeadRef = pull.GetProperty("headRefName").GetString()!,
            BaseRef = pull.GetProperty("baseRefName").GetString()!,
            FromFork = pull.GetProperty("isCrossRepository").GetBoolean() || pull.GetProperty("headRepository").ValueKind == JsonValueKind.Null,
            HeadRepository = Text(pull, "headRepository", "nameWithOwner"),
            ReviewDecision = pull.GetProperty("reviewDecision").ValueKind == JsonValueKind.String ? pull.GetProperty("reviewDecision").GetString() : null,
            ApprovedBy = [.. reviews.Where(r => r.State == "APPROVED" && string.Equals(r.Commit, head, StringComparison.OrdinalIgnoreCase)).Select(r => r.Login!)],
            ChangesRequestedBy = [.. reviews.Where(r => r.State == "CHANGES_REQUESTED").Select(r => r.Login!)],
            Approvals = [.. reviews.Where(r => r.State == "APPROVED").Select(r => (r.Login!, r.Commit))],
            Checks = [],
        };
    }

    /// <summary>A commit's checks as read, and where the next page starts (null: there is none).</summary>
    private static (List<CommitCheck> Checks, string? Cursor) ChecksOf(JsonElement commit)
    {
        if (commit.ValueKind != JsonValueKind.Object || commit.GetProperty("statusCheckRollup") is not { ValueKind: JsonValueKind.Object } rollup)
        {
            return ([], null);
        }

        var contexts = rollup.GetProperty("contexts");
        List<CommitCheck> checks = [.. Nodes(contexts).Select(Check)];
        if (!contexts.TryGetProperty("pageInfo", out var info) || !info.GetProperty("hasNextPage").GetBoolean())
        {
            return (checks, null);
        }

        if (Text(info, "endCursor") is { } cursor)
        {
            return (checks, cursor);
        }

        checks.Add(new CommitCheck("more checks than GitHub paged", CommitCheck.Failure, true, null)); // never deploy on a partial list
        return (checks, null);
    }

    /// <summary>The GitHub users behind the commit's git author and committer, where GitHub knows them.</summary>
    private static IReadOnlyList<string> Authors(JsonElement commit) =>
        [.. new[] { Text(commit, "author", "user", "login"), Text(commit, "committer", "user", "login") }.OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)];

    /// <summary>A check run or commit status, its state folded into success / pending / failure as GitHub's rollup folds it.</summary>
    private static CommitCheck Check(JsonElement node)
    {
        var required = node.TryGetProperty("isRequired", out var isRequired) && isRequired.ValueKind == JsonValueKind.True;
        if (node.GetProperty("__typename").GetString() == "CheckRun")
        {
            var state = node.GetProperty("status").GetString() != "COMPLETED"
                ? CommitCheck.Pending
                : Text(node, "conclusion") is "SUCCESS" or "NEUTRAL" or "SKIPPED" ? CommitCheck.Success : CommitCheck.Failure;
            return new CommitCheck(node.GetProperty("name").GetString()!, state, required, Text(node, "detailsUrl"));
        }

        return new CommitCheck(node.GetProperty("context").GetString()!, Text(node, "state") switch
        {
            "SUCCESS" => CommitCheck.Success,
            "PENDING" or "EXPECTED" => CommitCheck.Pending,
            _ => CommitCheck.Failure,
        }, required, Text(node, "targetUrl"));
    }

    private static IEnumerable<JsonElement> Nodes(JsonElement connection) =>
        connection.ValueKind == JsonValueKind.Object && connection.TryGetProperty("nodes", out var nodes) && nodes.ValueKind == JsonValueKind.Array
            ? nodes.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.Object)
            : [];

    private static string? Login(JsonElement review) => Text(review, "author", "login");

    /// <summary>A string at a path of properties, or null where any step is missing or null.</summary>
    private static string? Text(JsonElement element, params string[] path)
    {
        foreach (var step in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(step, out element))
            {
                return null;
            }
        }

        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }
}
