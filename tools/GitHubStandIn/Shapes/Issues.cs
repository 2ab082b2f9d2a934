using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub's shapes: issue comments and reactions.</summary>
public static partial class GitHubShapes
{
    private static JsonObject Reactions(string url) => new()
    {
        ["url"] = url, ["total_count"] = 0, ["+1"] = 0, ["-1"] = 0, ["laugh"] = 0, ["confused"] = 0, ["heart"] = 0,
        ["hooray"] = 0, ["eyes"] = 0, ["rocket"] = 0,
    };

    /// <summary>GitHub's <c>issue-comment</c> (REST), which also fits the <c>issue_comment</c> webhook's <c>comment</c>.</summary>
    public static JsonObject Comment(Uri api, StandInComment comment)
    {
        var repository = comment.Repository.FullName;
        var url = new Uri(api, $"repos/{repository}/issues/comments/{comment.Id}").ToString();
        return new JsonObject
        {
            ["id"] = comment.Id,
            ["node_id"] = NodeId("IC", comment.Id),
            ["url"] = url,
            ["html_url"] = $"https://github.com/{repository}/pull/{comment.Number}#issuecomment-{comment.Id}",
            ["body"] = comment.Body,
            ["user"] = Person(api, comment.User, comment.UserType),
            ["created_at"] = Time(comment.CreatedAt),
            ["updated_at"] = Time(comment.UpdatedAt ?? comment.CreatedAt),
            ["issue_url"] = new Uri(api, $"repos/{repository}/issues/{comment.Number}").ToString(),
            ["author_association"] = comment.UserType == "Bot" ? "NONE" : "MEMBER",
            ["performed_via_github_app"] = null,
            ["reactions"] = Reactions(url + "/reactions"),
        };
    }

    /// <summary>The <c>issue</c> of an <c>issue_comment</c> webhook on a pull request (the pull request seen as an issue).</summary>
    public static JsonObject PullRequestIssue(Uri api, StandInPullRequest pull)
    {
        var repository = pull.Repository.FullName;
        var url = new Uri(api, $"repos/{repository}/issues/{pull.Number}").ToString();
        var html = $"https://github.com/{repository}/pull/{pull.Number}";
        return new JsonObject
        {
            ["url"] = url,
            ["repository_url"] = new Uri(api, $"repos/{repository}").ToString(),
            ["labels_url"] = url + "/labels{/name}",
            ["comments_url"] = url + "/comments",
            ["events_url"] = url + "/events",
            ["html_url"] = html,
            ["id"] = pull.Number * 1000 + pull.Repository.Id,
            ["node_id"] = NodeId("PR", pull.Number),
            ["number"] = pull.Number,
            ["title"] = pull.Title,
            ["user"] = Person(api, pull.Author),
            ["labels"] = new JsonArray(),
            ["state"] = pull.State,
            ["locked"] = false,
            ["assignee"] = null,
            ["assignees"] = new JsonArray(),
            ["milestone"] = null,
            ["comments"] = 0,
            ["created_at"] = Time(pull.CreatedAt),
            ["updated_at"] = Time(pull.CreatedAt),
            ["closed_at"] = pull.State == "closed" ? Time(pull.ClosedAt ?? pull.CreatedAt.AddHours(1)) : null,
            ["author_association"] = "MEMBER",
            ["active_lock_reason"] = null,
            ["body"] = null,
            ["reactions"] = Reactions(url + "/reactions"),
            ["pull_request"] = new JsonObject
            {
                ["url"] = new Uri(api, $"repos/{repository}/pulls/{pull.Number}").ToString(),
                ["html_url"] = html,
                ["diff_url"] = html + ".diff",
                ["patch_url"] = html + ".patch",
                ["merged_at"] = null,
            },
        };
    }

    /// <summary>GitHub's <c>reaction</c>.</summary>
    public static JsonObject Reaction(Uri api, StandInReaction reaction) => new()
    {
        ["id"] = reaction.Id,
        ["node_id"] = NodeId("REA", reaction.Id),
        ["user"] = Person(api, reaction.User, reaction.UserType),
        ["content"] = reaction.Content,
        ["created_at"] = Time(reaction.CreatedAt),
    };
}
