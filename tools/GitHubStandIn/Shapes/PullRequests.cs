using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub's shapes: pull requests and reviews.</summary>
public static partial class GitHubShapes
{
    /// <summary>GitHub's <c>pull-request</c> (REST, components/schemas/pull-request: every required field).</summary>
    public static JsonObject PullRequest(Uri api, StandInPullRequest pull)
    {
        var repository = pull.Repository;
        var url = new Uri(api, $"repos/{repository.FullName}/pulls/{pull.Number}").ToString();
        var issueUrl = new Uri(api, $"repos/{repository.FullName}/issues/{pull.Number}").ToString();
        var html = $"https://github.com/{repository.FullName}/pull/{pull.Number}";
        var statuses = new Uri(api, $"repos/{repository.FullName}/statuses/{pull.HeadSha}").ToString();
        var closed = pull.State == "closed" ? Time(pull.ClosedAt ?? pull.CreatedAt.AddHours(1)) : null;
        return new JsonObject
        {
            ["url"] = url,
            ["id"] = pull.Number * 1000 + repository.Id,
            ["node_id"] = NodeId("PR", pull.Number),
            ["html_url"] = html,
            ["diff_url"] = html + ".diff",
            ["patch_url"] = html + ".patch",
            ["issue_url"] = issueUrl,
            ["commits_url"] = url + "/commits",
            ["review_comments_url"] = url + "/comments",
            ["review_comment_url"] = new Uri(api, $"repos/{repository.FullName}/pulls/comments").ToString() + "{/number}",
            ["comments_url"] = issueUrl + "/comments",
            ["statuses_url"] = statuses,
            ["number"] = pull.Number,
            ["state"] = pull.State,
            ["locked"] = false,
            ["title"] = pull.Title,
            ["user"] = Person(api, pull.Author),
            ["body"] = null,
            ["labels"] = new JsonArray(),
            ["milestone"] = null,
            ["active_lock_reason"] = null,
            ["created_at"] = Time(pull.CreatedAt),
            ["updated_at"] = Time(pull.UpdatedAt ?? pull.CreatedAt),
            ["closed_at"] = closed,
            ["merged_at"] = pull.Merged ? closed : null,
            ["merge_commit_sha"] = pull.Merged ? new string('e', 40) : null,
            ["assignee"] = null,
            ["assignees"] = new JsonArray(),
            ["requested_reviewers"] = new JsonArray(),
            ["requested_teams"] = new JsonArray(),
            ["head"] = End(api, pull.HeadRepositoryDeleted ? null : pull.HeadRepository, pull.HeadRef, pull.HeadSha),
            ["base"] = End(api, repository, pull.BaseRef, new string('b', 40)),
            ["_links"] = new JsonObject
            {
                ["self"] = Link(url), ["html"] = Link(html), ["issue"] = Link(issueUrl), ["comments"] = Link(issueUrl + "/comments"),
                ["review_comments"] = Link(url + "/comments"), ["review_comment"] = Link(new Uri(api, $"repos/{repository.FullName}/pulls/comments").ToString() + "{/number}"),
                ["commits"] = Link(url + "/commits"), ["statuses"] = Link(statuses),
            },
            ["author_association"] = "MEMBER",
            ["auto_merge"] = null,
            ["draft"] = pull.Draft,
            ["merged"] = pull.Merged,
            ["mergeable"] = true,
            ["rebaseable"] = true,
            ["mergeable_state"] = "clean",
            ["merged_by"] = null,
            ["comments"] = 0,
            ["review_comments"] = 0,
            ["maintainer_can_modify"] = false,
            ["commits"] = 1,
            ["additions"] = 1,
            ["deletions"] = 0,
            ["changed_files"] = 1,
        };
    }

    /// <summary>A pull request's head or base; a deleted head repository is null, as GitHub reports it.</summary>
    private static JsonObject End(Uri api, StandInRepository? repository, string reference, string sha) => new()
    {
        ["label"] = repository is null ? $"unknown:{reference}" : $"{repository.Owner}:{reference}",
        ["ref"] = reference,
        ["sha"] = sha,
        ["user"] = repository is null ? User(api, "ghost", 10137, "User") : User(api, repository.Owner, repository.Id + 1),
        ["repo"] = repository is null ? null : FullRepository(api, repository),
    };

    /// <summary>GitHub's <c>pull-request-review</c>.</summary>
    public static JsonObject Review(Uri api, StandInPullRequest pull, StandInReview review)
    {
        var html = $"https://github.com/{pull.Repository.FullName}/pull/{pull.Number}";
        var pullUrl = new Uri(api, $"repos/{pull.Repository.FullName}/pulls/{pull.Number}").ToString();
        return new JsonObject
        {
            ["id"] = review.Id,
            ["node_id"] = NodeId("PRR", review.Id),
            ["user"] = Person(api, review.User),
            ["body"] = "",
            ["state"] = review.State,
            ["html_url"] = $"{html}#pullrequestreview-{review.Id}",
            ["pull_request_url"] = pullUrl,
            ["_links"] = new JsonObject { ["html"] = Link($"{html}#pullrequestreview-{review.Id}"), ["pull_request"] = Link(pullUrl) },
            ["submitted_at"] = Time(review.SubmittedAt),
            ["commit_id"] = review.CommitId,
            ["author_association"] = "MEMBER",
        };
    }
}
