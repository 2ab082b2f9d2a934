using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;
using Octokit.Internal;

namespace DeployFunctions.GitHub;

/// <summary>Hands out Octokit clients authenticated for a delivery.</summary>
public interface IGitHubClientFactory
{
    /// <summary>
    /// The configured token's client; or, for a GitHub App, a client for the installation that sent the delivery, or
    /// (a repository or organization webhook's deliveries carry none) the App's installation on <paramref name="repository"/>.
    /// </summary>
    Task<IGitHubClient> CreateAsync(long? installationId, string? repository, CancellationToken cancellationToken);

    /// <summary>The GitHub App itself (a fresh JWT), for the App's own endpoints such as its hook; null with a token.</summary>
    IGitHubClient? CreateAppClient() => null;

    /// <summary>
    /// The login GitHub records as the creator of what these credentials make (deployments, statuses): the token's user, or
    /// the App's bot (<c>&lt;slug&gt;[bot]</c>). Only what this login created is ever the app's.
    /// </summary>
    Task<string> IdentityAsync(CancellationToken cancellationToken);

    /// <summary>Forgets what is cached for these credentials (the installation's token, the repository's installation) after GitHub refused them.</summary>
    void Forget(long? installationId, string? repository)
    {
    }
}

/// <summary>
/// Token or GitHub App authentication over one shared HTTP connection pool. Installation tokens are cached per
/// installation until five minutes before they expire (they live one hour); a repository's installation, looked up
/// when a delivery does not name it, is cached too.
/// </summary>
public sealed partial class GitHubClientFactory : IGitHubClientFactory, IDisposable
{
    public static readonly TimeSpan RefreshBeforeExpiry = TimeSpan.FromMinutes(5);
    private static readonly ProductHeaderValue Product = new("DeployFunctions", AppVersion.Current);

    private readonly GitHubOptions options;
    private readonly TimeProvider clock;
    private readonly ILogger<GitHubClientFactory> logger;
    private readonly HttpClientAdapter http;
    private readonly RSA? appKey;
    private readonly GitHubClient? tokenClient;
    private readonly ConcurrentDictionary<long, Lazy<Task<AccessToken>>> installationTokens = new();
    private readonly ConcurrentDictionary<string, long> repositoryInstallations = new(StringComparer.OrdinalIgnoreCase);
    private readonly ContentsResponseCache contents = new();
    private readonly GitHubRateGate? gate;
    private Lazy<Task<string>>? identity;

    public GitHubClientFactory(IOptions<GitHubOptions> options, TimeProvider clock, ILogger<GitHubClientFactory> logger, GitHubRateGate? gate = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.clock = clock;
        this.logger = logger;
        this.gate = gate;
        http = new HttpClientAdapter(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        // Once, before any request: the adapter's HttpClient is shared by every connection made below.
        http.SetRequestTimeout(TimeSpan.FromSeconds(this.options.RequestTimeoutSeconds));
        if (this.options.UsesApp)
        {
            appKey = RSA.Create();
            appKey.ImportFromPem(GitHubAppJwt.NormalizePem(this.options.AppPrivateKey!));
        }
        else
        {
            tokenClient = Client(new Credentials(this.options.Token), gated: true, installation: null);
        }
    }

    public async Task<IGitHubClient> CreateAsync(long? installationId, string? repository, CancellationToken cancellationToken)
    {
        if (tokenClient is not null)
        {
            return tokenClient;
        }

        var installation = installationId ?? await RepositoryInstallationAsync(repository);
        AccessToken token;
        try
        {
            token = await InstallationTokenAsync(installation);
        }
        catch (NotFoundException) when (installationId is null)
        {
            // The App was uninstalled (and maybe installed again): the cached installation is gone; look it up once more.
            Forget(installation, repository);
            token = await InstallationTokenAsync(await RepositoryInstallationAsync(repository));
        }

        return Client(new Credentials(token.Token), gated: true, installation);
    }

    public async Task<string> IdentityAsync(CancellationToken cancellationToken)
    {
        var lookup = LazyInitializer.EnsureInitialized(ref identity, () => new Lazy<Task<string>>(LookUpIdentityAsync));
        try
        {
            return await lookup.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.CompareExchange(ref identity, null, lookup); // a failed look-up is asked again next time
            throw;
        }
    }

    private async Task<string> LookUpIdentityAsync()
    {
        if (tokenClient is not null)
        {
            return (await tokenClient.User.Current()).Login;
        }

        var app = await CreateAppClient()!.GitHubApps.GetCurrent();
        return $"{app.Slug}[bot]";
    }

    public void Forget(long? installationId, string? repository)
    {
        if (installationId is { } id)
        {
            installationTokens.TryRemove(id, out _);
        }

        if (repository is not null && repositoryInstallations.TryRemove(repository, out var cached))
        {
            installationTokens.TryRemove(cached, out _);
        }
    }

    public IGitHubClient? CreateAppClient() => appKey is null
        ? null
        : Client(new Credentials(GitHubAppJwt.Create(options.AppId!.Value, appKey, clock.GetUtcNow()), AuthenticationType.Bearer));

    /// <summary>GET /repos/{owner}/{repo}/installation with the App's JWT: which installation of the App covers the repository.</summary>
    private async Task<long> RepositoryInstallationAsync(string? repository)
    {
        var slash = repository?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (repository is null || slash <= 0 || slash == repository.Length - 1)
        {
            throw new GitHubPermanentException(
                "The delivery names neither an installation nor a repository, so no GitHub App installation can be chosen.");
        }

        if (repositoryInstallations.TryGetValue(repository, out var cached))
        {
            return cached;
        }

        var app = Client(new Credentials(GitHubAppJwt.Create(options.AppId!.Value, appKey!, clock.GetUtcNow()), AuthenticationType.Bearer));
        Installation installation;
        try
        {
            installation = await app.GitHubApps.GetRepositoryInstallationForCurrent(repository[..slash], repository[(slash + 1)..]);
        }
        catch (NotFoundException exception)
        {
            throw new GitHubPermanentException(
                $"The GitHub App (GitHub__AppId) is not installed on {repository}: install it there, or use GitHub__Token.", exception);
        }

        LogRepositoryInstallation(logger, repository, installation.Id);
        return repositoryInstallations[repository] = installation.Id;
    }

    private async Task<AccessToken> InstallationTokenAsync(long installation)
    {
        for (var attempt = 0; ; attempt++)
        {
            var entry = installationTokens.GetOrAdd(installation, id => new Lazy<Task<AccessToken>>(() => RequestTokenAsync(id)));
            AccessToken token;
            try
            {
                token = await entry.Value;
            }
            catch (Exception)
            {
                // A failed request is not cached: drop it so the next call asks again, and let the caller retry.
                installationTokens.TryRemove(new KeyValuePair<long, Lazy<Task<AccessToken>>>(installation, entry));
                throw;
            }

            // A token fresh from GitHub is used even if our clock calls it nearly expired (clock skew): no loop.
            if (token.ExpiresAt - clock.GetUtcNow() > RefreshBeforeExpiry || attempt > 0)
            {
                return token;
            }

            installationTokens.TryRemove(new KeyValuePair<long, Lazy<Task<AccessToken>>>(installation, entry));
        }
    }

    private async Task<AccessToken> RequestTokenAsync(long installation)
    {
        var jwt = GitHubAppJwt.Create(options.AppId!.Value, appKey!, clock.GetUtcNow());
        var app = Client(new Credentials(jwt, AuthenticationType.Bearer));
        var token = await app.GitHubApps.CreateInstallationToken(installation);
        LogInstallationToken(logger, installation, token.ExpiresAt);
        return token;
    }

    /// <summary>
    /// A client over the shared connection pool; an installation's or the token's goes through the <see cref="GitHubRateGate"/>
    /// (the App's own JWT calls have a budget of their own and are few).
    /// </summary>
    private GitHubClient Client(Credentials credentials, bool gated = false, long? installation = null)
    {
        IHttpClient client = gated && gate is not null ? new RateGatedHttpClient(http, gate, installation) : http;
        var connection = new Connection(
            Product, options.ApiBaseUrl, new InMemoryCredentialStore(credentials), client, new SimpleJsonSerializer());
        return new GitHubClient(connection) { ResponseCache = contents };
    }

    public void Dispose()
    {
        http.Dispose();
        appKey?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Repository {Repository} is covered by GitHub App installation {InstallationId}")]
    private static partial void LogRepositoryInstallation(ILogger logger, string repository, long installationId);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "New installation token for installation {InstallationId}, valid until {ExpiresAt}")]
    private static partial void LogInstallationToken(ILogger logger, long installationId, DateTimeOffset expiresAt);
}
