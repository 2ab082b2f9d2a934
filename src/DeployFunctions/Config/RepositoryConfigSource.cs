using System.Collections.Concurrent;
using Octokit;

namespace DeployFunctions.Config;

/// <summary>Reads a repository's <c>.github/deployfunctions.yml</c> at a commit or branch.</summary>
public interface IRepositoryConfigSource
{
    Task<ConfigRead> ReadAsync(IGitHubClient github, string repository, string reference, CancellationToken cancellationToken);
}

/// <summary>
/// GitHub's Contents API (<c>GET /repos/{owner}/{repo}/contents/.github/deployfunctions.yml?ref=</c>). The client's
/// <see cref="GitHub.ContentsResponseCache"/> makes repeated reads conditional (304, free of the rate limit); a file
/// already parsed is found again by its blob SHA, so the schema runs once per version of the file.
/// </summary>
public sealed class GitHubRepositoryConfigSource : IRepositoryConfigSource
{
    private readonly ConcurrentDictionary<string, ConfigRead> parsed = new(StringComparer.Ordinal);

    public async Task<ConfigRead> ReadAsync(IGitHubClient github, string repository, string reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(github);
        ArgumentNullException.ThrowIfNull(repository);
        var (owner, name) = GitHub.GitHubNames.Split(repository);
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
