using DeployFunctions.Commands;
using DeployFunctions.Deployments;
using DeployFunctions.Policy;
using Octokit;

namespace DeployFunctions.Config;

/// <summary>A repository's file, read and held against the app's settings: usable (or missing), or refused with its errors.</summary>
public abstract record ConfigCheck
{
    private ConfigCheck()
    {
    }

    /// <summary>Usable; null when the repository has no file (the app's settings apply).</summary>
    public sealed record Usable(RepositoryConfig? Config) : ConfigCheck;

    public sealed record Refused(IReadOnlyList<string> Errors) : ConfigCheck
    {
        public string Summary => $"{RepositoryConfig.Path} cannot be used: {string.Join("; ", Errors)}";
    }
}

/// <summary>
/// Reads <c>.github/deployfunctions.yml</c> (at a merge commit, or a base branch's head: never a pull request's own head)
/// and refuses a file that is invalid or would widen the app's settings. A refusal is reported where people look: a
/// failing commit status <c>deployfunctions/config</c> on the commit, and a comment on the pull request (once).
/// </summary>
public sealed class ConfigGate(IRepositoryConfigSource source, DeployPolicy policy)
{
    public const string StatusContext = "deployfunctions/config";

    public async Task<ConfigCheck> CheckAsync(
        IGitHubClient github, string repository, string reference, string defaultBranch, CancellationToken cancellationToken)
    {
        var read = await source.ReadAsync(github, repository, reference, cancellationToken);
        return read switch
        {
            ConfigRead.Missing => new ConfigCheck.Usable(null),
            ConfigRead.Invalid invalid => new ConfigCheck.Refused(invalid.Errors),
            ConfigRead.Valid valid when policy.Widens(valid.Config, defaultBranch, repository) is { Count: > 0 } widening => new ConfigCheck.Refused(widening),
            ConfigRead.Valid valid => new ConfigCheck.Usable(valid.Config),
            _ => throw new InvalidOperationException("Unknown configuration read."),
        };
    }

    /// <summary>The failing commit status on <paramref name="sha"/>, and one comment on the pull request with every error.</summary>
    public static async Task ReportAsync(
        IGitHubClient github, string repository, string sha, long? pullRequest, ConfigCheck.Refused refused, DateTimeOffset since, CommentMarks marks)
    {
        ArgumentNullException.ThrowIfNull(github);
        ArgumentNullException.ThrowIfNull(refused);
        var (owner, name) = GitHub.GitHubNames.Split(repository);
        await github.Repository.Status.Create(owner, name, sha, new NewCommitStatus
        {
            State = CommitState.Failure,
            Context = StatusContext,
            Description = DeploymentMarker.Describe($"{refused.Errors.Count} problem(s) in {RepositoryConfig.Path}: {refused.Errors[0]}"),
        });
        if (pullRequest is { } number)
        {
            var conversation = new PullRequestConversation(github, repository, number, marks);
            await conversation.PostOnceAsync($"config:{sha}", since,
                $"⚠️ DeployFunctions did not deploy {sha[..Math.Min(7, sha.Length)]}: `{RepositoryConfig.Path}` cannot be used.\n\n" +
                string.Join('\n', refused.Errors.Select(e => $"- {e}")) +
                "\n\nThe schema is `schema/deployfunctions.schema.json`; the app's settings are the upper bound a repository can only narrow.");
        }
    }
}
