using System.Globalization;
using Octokit;

namespace DeployFunctions.Commands;

/// <summary>
/// Talking on one pull request: reactions on a comment, and comments posted once. A comment of ours starts with a hidden
/// signed mark (<see cref="CommentMarks"/>); before posting, the conversation is searched for it, so a redelivered or
/// retried command never answers twice, even when the process died between posting and anything else.
/// </summary>
public sealed class PullRequestConversation(IGitHubClient github, string repository, long number, CommentMarks marks)
{
    private readonly string owner = DeployFunctions.GitHub.GitHubNames.Split(repository).Owner;
    private readonly string name = DeployFunctions.GitHub.GitHubNames.Split(repository).Name;

    public IGitHubClient GitHub => github;
    public string Owner => owner;
    public string Name => name;
    public long Number => number;

    /// <summary>The reply key of a command comment.</summary>
    public static string ReplyKey(long commentId) => "reply:" + commentId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The key of the question a command waiting for confirmation asks about <paramref name="sha"/>.</summary>
    public static string ConfirmKey(long commentId, string sha) => "confirm:" + commentId.ToString(CultureInfo.InvariantCulture) + ":" + sha.ToLowerInvariant();

    /// <summary>Our comment with this key since <paramref name="since"/> when <paramref name="search"/> finds one; else posted now.</summary>
    public async Task<IssueComment> FindOrPostAsync(string key, DateTimeOffset since, string text, bool search)
    {
        return (search ? await FindAsync(key, since) : null) ?? await github.Issue.Comment.Create(owner, name, number, marks.Mark(key) + "\n" + text);
    }

    /// <summary>
    /// The reactions on a comment: who, which (<c>+1</c>, <c>-1</c>, ...) and when (Octokit's <c>Reaction</c> has no
    /// <c>created_at</c>, which a deadline needs).
    /// </summary>
    public async Task<IReadOnlyList<(string Login, string Content, DateTimeOffset At)>> ReactionsAsync(long commentId) =>
        [.. (await new ApiConnection(github.Connection).GetAll<ReactionAt>(
                new Uri($"repos/{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(name)}/issues/comments/{commentId.ToString(CultureInfo.InvariantCulture)}/reactions", UriKind.Relative),
                new ApiOptions { PageSize = 100 }))
            .Select(r => (r.User?.Login ?? "", r.Content ?? "", r.CreatedAt))];

    /// <summary>Adds a reaction (GitHub answers 200 when it exists already, so repeating it is harmless).</summary>
    public Task ReactAsync(long commentId, ReactionType reaction) =>
        github.Reaction.IssueComment.Create(owner, name, commentId, new NewReaction(reaction));

    /// <summary>Our comment with this key posted since <paramref name="since"/>, if there is one.</summary>
    public async Task<IssueComment?> FindAsync(string key, DateTimeOffset since)
    {
        // Only 'since' (Octokit's IssueCommentRequest adds 'sort' and 'direction', which this endpoint does not take).
        var comments = await new ApiConnection(github.Connection).GetAll<IssueComment>(
            new Uri($"repos/{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(name)}/issues/{number.ToString(CultureInfo.InvariantCulture)}/comments", UriKind.Relative),
            new Dictionary<string, string> { ["since"] = since.AddMinutes(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) },
            new ApiOptions { PageSize = 100 });
        return comments.FirstOrDefault(c => c.Body is { } body && marks.IsOurs(body, key));
    }

    /// <summary>
    /// Posts the comment unless one with this key was posted since <paramref name="since"/>; true when posted now.
    /// <paramref name="search"/> false: the caller knows no such comment can exist (it never got this far before).
    /// </summary>
    public async Task<bool> PostOnceAsync(string key, DateTimeOffset since, string text, bool search = true)
    {
        if (search && await FindAsync(key, since) is not null)
        {
            return false;
        }

        await github.Issue.Comment.Create(owner, name, number, marks.Mark(key) + "\n" + text);
        return true;
    }
}

/// <summary>GitHub's <c>reaction</c>, with the <c>created_at</c> Octokit's model leaves out.</summary>
internal sealed class ReactionAt
{
    public User? User { get; set; }
    public string? Content { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
