using System.Globalization;
using System.Text.Json.Nodes;

namespace GitHubStandIn.GraphQL;

/// <summary>
/// The stand-in's state as GitHub's GraphQL graph, for the fields the app asks for: repositories, pull requests (state,
/// draft, head and base, GitHub's review decision, each writer's latest opinionated review) and the head commit's
/// status check rollup (check runs and commit statuses together, each with whether the base branch requires it).
/// </summary>
internal sealed class StandInGraph(StandInState state)
{
    public GraphQLObject Query() => new("Query", (field, args) => field switch
    {
        "repository" => state.Repository((string)args["owner"]!, (string)args["name"]!) is { } repository ? Repository(repository) : null,
        _ => Unanswered("Query", field),
    });

    private GraphQLObject Repository(StandInRepository repository) => new("Repository", (field, args) => field switch
    {
        "nameWithOwner" => JsonValue.Create(repository.FullName),
        "name" => JsonValue.Create(repository.Name),
        "isFork" => JsonValue.Create(repository.Fork),
        "pullRequest" => state.PullRequest(repository.FullName, Number(args["number"])) is { } pull ? PullRequest(pull) : null,
        "object" => args.GetValueOrDefault("oid") is JsonValue oid ? Commit(repository, (string)oid!) : null,
        _ => Unanswered("Repository", field),
    });

    private GraphQLObject PullRequest(StandInPullRequest pull) => new("PullRequest", (field, args) => field switch
    {
        "number" => JsonValue.Create(pull.Number),
        "title" => JsonValue.Create(pull.Title),
        "url" => JsonValue.Create($"https://github.com/{pull.Repository.FullName}/pull/{pull.Number}"),
        "state" => JsonValue.Create(pull.State == "open" ? "OPEN" : "CLOSED"),
        "isDraft" => JsonValue.Create(pull.Draft),
        "headRefOid" => JsonValue.Create(pull.HeadSha),
        "headRefName" => JsonValue.Create(pull.HeadRef),
        "baseRefName" => JsonValue.Create(pull.BaseRef),
        "isCrossRepository" => JsonValue.Create(pull.HeadRepositoryDeleted || pull.HeadRepository != pull.Repository),
        "headRepository" => pull.HeadRepositoryDeleted ? null : Repository(pull.HeadRepository),
        "author" => Actor(pull.Author),
        "reviewDecision" => pull.ReviewDecision is { } decision ? JsonValue.Create(decision) : null,
        "latestOpinionatedReviews" => Connection("PullRequestReviewConnection",
            [.. state.LatestOpinionatedReviews(pull, args.GetValueOrDefault("writersOnly") is JsonValue w && w.TryGetValue<bool>(out var writers) && writers).Select(r => Review(pull, r))], args),
        "commits" => Connection("PullRequestCommitConnection", [.. (pull.ListedCommits ?? [pull.HeadSha]).Select(sha => PullRequestCommit(pull, sha))], args),
        _ => Unanswered("PullRequest", field),
    });

    private GraphQLObject Review(StandInPullRequest pull, StandInReview review) => new("PullRequestReview", (field, _) => field switch
    {
        "state" => JsonValue.Create(review.State),
        "author" => Actor(review.User),
        "commit" => Commit(pull.Repository, review.CommitId),
        "submittedAt" => JsonValue.Create(GitHubShapes.Time(review.SubmittedAt)),
        "authorCanPushToRepository" => JsonValue.Create(state.Permissions.TryGetValue((pull.Repository.FullName, review.User), out var role) && role is "write" or "maintain" or "admin"),
        _ => Unanswered("PullRequestReview", field),
    });

    private GraphQLObject PullRequestCommit(StandInPullRequest pull, string sha) => new("PullRequestCommit", (field, _) => field switch
    {
        "commit" => Commit(pull.Repository, sha),
        _ => Unanswered("PullRequestCommit", field),
    });

    private GraphQLObject Commit(StandInRepository repository, string sha) => new("Commit", (field, _) => field switch
    {
        "oid" => JsonValue.Create(sha),
        "statusCheckRollup" => Rollup(repository, sha),
        "author" or "committer" => GitActor(HeadAuthor(repository, sha)),
        _ => Unanswered("Commit", field),
    });

    /// <summary>The login GitHub maps a commit's git author to: the head author a pull request names, else its author.</summary>
    private string? HeadAuthor(StandInRepository repository, string sha)
    {
        lock (state.Gate)
        {
            var pull = state.PullRequests.FirstOrDefault(p => p.Repository == repository && string.Equals(p.HeadSha, sha, StringComparison.OrdinalIgnoreCase));
            return pull?.HeadCommitAuthor ?? pull?.Author;
        }
    }

    private static GraphQLObject GitActor(string? login) => new("GitActor", (field, _) => field switch
    {
        "user" => login is null ? null : Actor(login),
        "name" => JsonValue.Create(login ?? "someone"),
        _ => Unanswered("GitActor", field),
    });

    /// <summary>Check runs and commit statuses of the commit; null when it has none, as GitHub answers.</summary>
    private GraphQLObject? Rollup(StandInRepository repository, string sha)
    {
        var contexts = new List<(GraphQLObject Node, string State)>();
        foreach (var run in state.CheckRuns.TryGetValue(sha, out var runs) ? Snapshot(runs) : [])
        {
            var conclusion = run.Conclusion?.ToUpperInvariant();
            var rolled = run.Status != "completed" ? "PENDING" : conclusion is "SUCCESS" or "NEUTRAL" or "SKIPPED" ? "SUCCESS" : "FAILURE";
            contexts.Add((new GraphQLObject("CheckRun", (field, args) => field switch
            {
                "name" => JsonValue.Create(run.Name),
                "status" => JsonValue.Create(run.Status.ToUpperInvariant()),
                "conclusion" => conclusion is null ? null : JsonValue.Create(conclusion),
                "detailsUrl" => JsonValue.Create($"https://github.com/{repository.FullName}/actions/runs/{run.Id}/job/{run.Id}"),
                "isRequired" => JsonValue.Create(Required(repository, args, run.Name)),
                _ => Unanswered("CheckRun", field),
            }), rolled));
        }

        foreach (var (context, status) in Statuses(repository.FullName, sha))
        {
            var upper = status.ToUpperInvariant();
            contexts.Add((new GraphQLObject("StatusContext", (field, args) => field switch
            {
                "context" => JsonValue.Create(context),
                "state" => JsonValue.Create(upper),
                "targetUrl" => JsonValue.Create($"https://ci.example.com/{sha}/{Uri.EscapeDataString(context)}"),
                "description" => null,
                "isRequired" => JsonValue.Create(Required(repository, args, context)),
                _ => Unanswered("StatusContext", field),
            }), upper is "SUCCESS" ? "SUCCESS" : upper is "PENDING" or "EXPECTED" ? "PENDING" : "FAILURE"));
        }

        if (contexts.Count == 0)
        {
            return null;
        }

        var overall = contexts.Any(c => c.State == "FAILURE") ? "FAILURE" : contexts.Any(c => c.State == "PENDING") ? "PENDING" : "SUCCESS";
        return new GraphQLObject("StatusCheckRollup", (field, args) => field switch
        {
            "state" => JsonValue.Create(overall),
            "contexts" => Connection("StatusCheckRollupContextConnection", [.. contexts.Select(c => c.Node)], args),
            _ => Unanswered("StatusCheckRollup", field),
        });
    }

    /// <summary>Whether the base branch of the pull request <c>isRequired(pullRequestNumber:)</c> names requires the check.</summary>
    private bool Required(StandInRepository repository, IReadOnlyDictionary<string, JsonNode?> args, string check) =>
        args.GetValueOrDefault("pullRequestNumber") is JsonValue number &&
        state.PullRequest(repository.FullName, Number(number)) is { } pull && pull.RequiredChecks.Contains(check);

    /// <summary>The latest state of each commit status context: the one set for the commit and those posted through the API.</summary>
    private List<(string Context, string State)> Statuses(string repository, string sha)
    {
        var latest = new Dictionary<string, string>(StringComparer.Ordinal);
        if (state.CombinedStatuses.TryGetValue(sha, out var combined))
        {
            latest[combined.Context] = combined.State;
        }

        foreach (var posted in state.CommitStatuses.Where(s => string.Equals(s.Repository, repository, StringComparison.OrdinalIgnoreCase) &&
                                                               string.Equals(s.Sha, sha, StringComparison.OrdinalIgnoreCase)))
        {
            latest[posted.Context] = posted.State;
        }

        return [.. latest.Select(pair => (pair.Key, pair.Value))];
    }

    private static GraphQLObject Actor(string login) => new(GitHubShapes.UserType(login), (field, _) => field switch
    {
        "login" => JsonValue.Create(login),
        "url" => JsonValue.Create($"https://github.com/{login}"),
        _ => Unanswered("Actor", field),
    });

    /// <summary>
    /// A connection (<c>nodes</c>, <c>totalCount</c>, <c>pageInfo</c>) with <c>after</c>, <c>first</c> and <c>last</c> applied;
    /// a cursor is the position after which the next page starts, opaque as GitHub's are.
    /// </summary>
    private static GraphQLObject Connection(string typeName, List<GraphQLObject> all, IReadOnlyDictionary<string, JsonNode?> args)
    {
        var start = args.GetValueOrDefault("after") is JsonValue after ? Position((string)after!) : 0;
        var nodes = all.Skip(start).ToList();
        if (args.GetValueOrDefault("first") is JsonValue first)
        {
            nodes = [.. nodes.Take((int)Number(first))];
        }

        if (args.GetValueOrDefault("last") is JsonValue last)
        {
            start += Math.Max(0, nodes.Count - (int)Number(last));
            nodes = [.. nodes.TakeLast((int)Number(last))];
        }

        var end = start + nodes.Count;
        return new GraphQLObject(typeName, (field, _) => field switch
        {
            "nodes" => nodes,
            "totalCount" => JsonValue.Create(all.Count),
            "pageInfo" => new GraphQLObject("PageInfo", (info, _) => info switch
            {
                "hasNextPage" => JsonValue.Create(end < all.Count),
                "endCursor" => nodes.Count == 0 ? null : JsonValue.Create(Cursor(end)),
                _ => Unanswered("PageInfo", info),
            }),
            _ => Unanswered(typeName, field),
        });
    }

    private static string Cursor(int position) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"cursor:v2:{position}"));

    private static int Position(string cursor)
    {
        var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
        return text.StartsWith("cursor:v2:", StringComparison.Ordinal) ? int.Parse(text["cursor:v2:".Length..], CultureInfo.InvariantCulture) : 0;
    }

    private static List<StandInCheckRun> Snapshot(List<StandInCheckRun> runs)
    {
        lock (runs)
        {
            return [.. runs];
        }
    }

    private static long Number(JsonNode? value) => value is JsonValue v && v.TryGetValue<long>(out var number)
        ? number
        : long.Parse((string?)value ?? "0", CultureInfo.InvariantCulture);

    private static object? Unanswered(string type, string field) =>
        throw new UnansweredFieldException($"The GitHub stand-in does not answer {type}.{field} (GitHub's schema has it): add it to StandInGraph.");
}
