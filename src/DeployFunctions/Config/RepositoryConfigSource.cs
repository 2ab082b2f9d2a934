using System.Collections.Concurrent;
using Octokit;

namespace DeployFunctions.Config;

/// <summary>Reads a repository's <c>.github/deployfunctions.yml</c> at a commit or branch.</summary>
public interface IRepositoryConfigSource
{
    Task<ConfigRead> ReadAsync(IGitHubClient github, string repository, string reference, CancellationToken cancellationToken);
}

/// <summary>
/// Two conditional requests, usually one and free. First the branch's last commit that touched the file
/// (<c>GET /repos/{owner}/{repo}/commits?sha=&amp;path=.github/deployfunctions.yml&amp;per_page=1</c>): while no commit did, GitHub
/// answers 304 to the ETag the client's <see cref="GitHub.ContentsResponseCache"/> sends, which does not count against the
/// rate limit, for a repository without the file as for one with it. Only when that commit changed is the file read
/// (Contents API, conditional too), and a version already parsed is found again by its blob SHA, so the schema runs once
/// per version of the file.
/// </summary>
public sealed class GitHubRepositoryConfigSource : IRepositoryConfigSource
{
    /// <summary>How many repositories' last reads are kept; past it they are forgotten and read again.</summary>
    public const int Capacity = 5000;

    private readonly ConcurrentDictionary<string, ConfigRead> parsed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Commit, ConfigRead Read)> lastChange = new(StringComparer.OrdinalIgnoreCase);

    public async Task<ConfigRead> ReadAsync(IGitHubClient github, string repository, string reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(github);
        ArgumentNullException.ThrowIfNull(repository);
        var (owner, name) = GitHub.GitHubNames.Split(repository);
        string commit;
        try
        {
            var commits = await github.Repository.Commit.GetAll(owner, name, new CommitRequest { Sha = reference, Path = RepositoryConfig.Path },
                new ApiOptions { PageSize = 1, PageCount = 1, StartPage = 1 });
            commit = commits.Count == 0 ? "" : commits[0].Sha;
        }
        catch (ApiException empty) when (empty.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            commit = ""; // "Git Repository is empty"
        }

        var key = $"{repository}@{reference}";
        if (lastChange.TryGetValue(key, out var known) && known.Commit == commit)
        {
            return known.Read;
        }

        var read = commit.Length == 0 ? new ConfigRead.Missing() : await ReadFileAsync(github, owner, name, reference);
        if (lastChange.Count >= Capacity)
        {
            lastChange.Clear();
        }

        lastChange[key] = (commit, read);
        return read;
    }

    private async Task<ConfigRead> ReadFileAsync(IGitHubClient github, string owner, string name, string reference)
    {
        IReadOnlyList<RepositoryContent> found;
        try
        {
            found = await github.Repository.Content.GetAllContentsByRef(owner, name, RepositoryConfig.Path, reference);
        }
        catch (NotFoundException)
        {
            return new ConfigRead.Missing();
        }

        if (found.Count != 1 || found[0].Type.Value != ContentType.File)
        {
            return new ConfigRead.Invalid([$"{RepositoryConfig.Path} is not a file"], null);
        }

        var file = found[0];
        if (file.Size > RepositoryConfigParser.MaxBytes)
        {
            return new ConfigRead.Invalid([$"{RepositoryConfig.Path} is {file.Size} bytes; at most {RepositoryConfigParser.MaxBytes} are read"], file.Sha);
        }

        if (parsed.TryGetValue(file.Sha, out var known))
        {
            return known;
        }

        var read = RepositoryConfigParser.Parse(file.Content ?? "", file.Sha);
        if (parsed.Count > 1000)
        {
            parsed.Clear();
        }

        parsed[file.Sha] = read;
        return read;
    }
}
