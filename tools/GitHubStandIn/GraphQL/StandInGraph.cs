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
        "commits" => Connection("PullRequestCommitConnection", [PullRequestCommit(pull)], args),
        _ => Unanswered("PullRequest", field),
    });

    private GraphQLObject Review(StandInPullRequest pull, StandInReview review) => new("PullRequestReview", (field, _) => field switch
    {
        "state" => JsonValue.Create(review.State),
        "author" => Actor(review.User),
        "commit" => Commit(pull, review.CommitId),
        "submittedAt" => JsonValue.Create(GitHubShapes.Time(review.SubmittedAt)),
        "authorCanPushToRepository" => JsonValue.Create(state.Permissions.TryGetValue((pull.Repository.FullName, review.User), out var role) && role is "write" or "maintain" or "admin"),
        _ => Unanswered("PullRequestReview", field),
    });

    private GraphQLObject PullRequestCommit(StandInPullRequest pull) => new("PullRequestCommit", (field, _) => field switch
    {
        "commit" => Commit(pull, pull.HeadSha),
        _ => Unanswered("PullRequestCommit", field),
    });

    private GraphQLObject Commit(StandInPullRequest pull, string sha) => new("Commit", (field, _) => field switch
    {
        "oid" => JsonValue.Create(sha),
        "statusCheckRollup" => Rollup(pull, sha),
        _ => Unanswered("Commit", field),
    });

    /// <summary>Check runs and commit statuses of the commit; null when it has none, as GitHub answers.</summary>
    private GraphQLObject? Rollup(StandInPullRequest pull, string sha)
    {
        var contexts = new List<(GraphQLObject Node, string State)>();
        foreach (var run in state.CheckRuns.TryGetValue(sha, out var runs) ? Snapshot(runs) : [])
        {
            var conclusion = run.Conclusion?.ToUpperInvariant();
            var rolled = run.Status != "completed" ? "PENDING" : conclusion is "SUCCESS" or "NEUTRAL" or "SKIPPED" ? "SUCCESS" : "FAILURE";
            contexts.Add((new GraphQLObject("CheckRun", (field, _) => field switch
            {
                "name" => JsonValue.Create(run.Name),
                "status" => JsonValue.Create(run.Status.ToUpperInvariant()),
                "conclusion" => conclusion is null ? null : JsonValue.Create(conclusion),
                "detailsUrl" => JsonValue.Create($"https://github.com/{pull.Repository.FullName}/actions/runs/{run.Id}/job/{run.Id}"),
                "isRequired" => JsonValue.Create(pull.RequiredChecks.Contains(run.Name)),
                _ => Unanswered("CheckRun", field),
            }), rolled));
        }

        foreach (var (context, status) in Statuses(pull.Repository.FullName, sha))
        {
            var upper = status.ToUpperInvariant();
            contexts.Add((new GraphQLObject("StatusContext", (field, _) => field switch
            {
                "context" => JsonValue.Create(context),
                "state" => JsonValue.Create(upper),
                "targetUrl" => JsonValue.Create($"https://ci.example.com/{sha}/{Uri.EscapeDataString(context)}"),
                "description" => null,
                "isRequired" => JsonValue.Create(pull.RequiredChecks.Contains(context)),
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

    /// <summary>A connection (<c>nodes</c>, <c>totalCount</c>) with <c>first</c> / <c>last</c> applied.</summary>
    private static GraphQLObject Connection(string typeName, List<GraphQLObject> all, IReadOnlyDictionary<string, JsonNode?> args)
    {
        var nodes = all;
        if (args.GetValueOrDefault("first") is JsonValue first)
        {
            nodes = [.. nodes.Take((int)Number(first))];
        }

        if (args.GetValueOrDefault("last") is JsonValue last)
        {
            nodes = [.. nodes.TakeLast((int)Number(last))];
        }

        return new GraphQLObject(typeName, (field, _) => field switch
        {
            "nodes" => nodes,
            "totalCount" => JsonValue.Create(all.Count),
            "pageInfo" => new GraphQLObject("PageInfo", (info, _) => info switch
            {
                "hasNextPage" => JsonValue.Create(nodes.Count < all.Count),
                "endCursor" => null,
                _ => Unanswered("PageInfo", info),
            }),
            _ => Unanswered(typeName, field),
        });
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
