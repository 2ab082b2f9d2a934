using DeployFunctions.GitHub;
using Octokit;

namespace DeployFunctions.Deployments;

/// <summary>
/// The app's own deployments on GitHub, found again when the answer to a create call was lost: GitHub's list
/// (<c>GET /repos/{owner}/{repo}/deployments?sha=&amp;environment=</c>; Octokit's GetAll has no filters) filtered to what the
/// app's own credentials created. Anyone with write access can create a deployment of the same commit and environment
/// (with <c>required_contexts: []</c>, or a copied payload); such a deployment is never taken for the app's.
/// </summary>
public static class OwnDeployments
{
    /// <summary>The oldest deployment of <paramref name="sha"/> to <paramref name="environment"/> the app created that <paramref name="matches"/>, if any.</summary>
    public static async Task<long?> FindAsync(
        IGitHubClient github, IGitHubClientFactory clients, string repository, string sha, string environment,
        Func<ListedDeployment, bool> matches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(github);
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(matches);
        var (owner, name) = GitHubNames.Split(repository);
        var found = await new ApiConnection(github.Connection).Get<List<ListedDeployment>>(
            new Uri($"repos/{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(name)}/deployments", UriKind.Relative),
            new Dictionary<string, string> { ["sha"] = sha, ["environment"] = environment, ["per_page"] = "100" });
        if (found is not { Count: > 0 })
        {
            return null;
        }

        var me = await clients.IdentityAsync(cancellationToken);
        return found
            .Where(d => d.Sha == sha && string.Equals(d.Environment, environment, StringComparison.OrdinalIgnoreCase))
            .Where(d => string.Equals(d.Creator?.Login, me, StringComparison.OrdinalIgnoreCase))
            .Where(matches)
            .OrderBy(d => d.Id)
            .FirstOrDefault()?.Id;
    }
}

/// <summary>
/// The fields of a listed deployment we read. Octokit's own <see cref="Deployment"/> types the payload as a string
/// map, which fails on deployments other tools created with nested payloads; this reads only what it needs.
/// </summary>
public sealed class ListedDeployment
{
    public long Id { get; set; }
    public string? Sha { get; set; }
    public string? Environment { get; set; }
    public string? Task { get; set; }
    public ListedPayload? Payload { get; set; }

    /// <summary>Who created it: only what the app's own credentials created is the app's.</summary>
    public ListedUser? Creator { get; set; }

    /// <summary><c>payload.comment_id</c>: the command comment that asked for it, when a command did.</summary>
    public string? CommentId => Payload?.CommentId;
}

/// <summary>The payload fields read from a listed deployment.</summary>
public sealed class ListedPayload
{
    /// <summary>The payload key naming the approval of a preview's deployment (its push time, in ticks).</summary>
    public const string PreviewKey = "preview";

    public string? CommentId { get; set; }

    /// <summary><c>payload.preview</c>: which approval of a preview created it.</summary>
    public string? Preview { get; set; }
}

/// <summary>A user as GitHub lists it.</summary>
public sealed class ListedUser
{
    public string? Login { get; set; }
}

/// <summary>How this app labels the deployments it creates (for people reading them), and GitHub's description limit.</summary>
public static class DeploymentMarker
{
    public const string Key = "created_by";
    public const string Value = "deployfunctions";
    public const int MaxDescription = 140;

    public static string Describe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length <= MaxDescription ? text : text[..(MaxDescription - 1)] + "…";
    }
}
