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
    /// A client for the installation that sent the delivery (GitHub App), or the configured token's client.
    /// </summary>
    Task<IGitHubClient> CreateAsync(long? installationId, CancellationToken cancellationToken);
}

/// <summary>
/// Token or GitHub App authentication over one shared HTTP connection pool. Installation tokens are cached per
/// installation until five minutes before they expire (they live one hour).
/// </summary>
public sealed partial class GitHubClientFactory : IGitHubClientFactory, IDisposable
{
    public static readonly TimeSpan RefreshBeforeExpiry = TimeSpan.FromMinutes(5);
    private static readonly ProductHeaderValue Product = new("DeployFunctions", "1.0");

    private readonly GitHubOptions options;
    private readonly TimeProvider clock;
    private readonly ILogger<GitHubClientFactory> logger;
    private readonly HttpClientAdapter http;
    private readonly RSA? appKey;
    private readonly IGitHubClient? tokenClient;
    private readonly ConcurrentDictionary<long, Lazy<Task<AccessToken>>> installationTokens = new();

    public GitHubClientFactory(IOptions<GitHubOptions> options, TimeProvider clock, ILogger<GitHubClientFactory> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.clock = clock;
        this.logger = logger;
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
            tokenClient = Client(new Credentials(this.options.Token));
        }
    }

    public async Task<IGitHubClient> CreateAsync(long? installationId, CancellationToken cancellationToken)
    {
        if (tokenClient is not null)
        {
            return tokenClient;
        }

        if (installationId is not { } installation)
        {
            throw new GitHubPermanentException(
                "The delivery carries no installation id, which GitHub App authentication needs: deliveries must come " +
                "from the App's own webhook (or configure GitHub__Token instead).");
        }

        var token = await InstallationTokenAsync(installation);
        return Client(new Credentials(token.Token));
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

    private GitHubClient Client(Credentials credentials)
    {
        var connection = new Connection(
            Product, options.ApiBaseUrl, new InMemoryCredentialStore(credentials), http, new SimpleJsonSerializer());
        return new GitHubClient(connection);
    }

    public void Dispose()
    {
        http.Dispose();
        appKey?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "New installation token for installation {InstallationId}, valid until {ExpiresAt}")]
    private static partial void LogInstallationToken(ILogger logger, long installationId, DateTimeOffset expiresAt);
}
