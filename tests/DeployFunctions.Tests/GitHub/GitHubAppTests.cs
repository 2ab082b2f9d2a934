using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DeployFunctions.GitHub;
using GitHubStandIn;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Octokit;

namespace DeployFunctions.Tests.GitHub;

public sealed class GitHubAppTests
{
    private static readonly RSA Key = RSA.Create(2048);

    [Fact]
    public void App_jwt_is_RS256_issued_60_seconds_back_expiring_within_10_minutes()
    {
        var now = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);

        var jwt = GitHubAppJwt.Create(12345, Key, now);

        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!;
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!;
        Assert.Equal("RS256", (string?)header["alg"]);
        Assert.Equal(now.AddSeconds(-60).ToUnixTimeSeconds(), (long)claims["iat"]!);
        Assert.True((long)claims["exp"]! - now.ToUnixTimeSeconds() <= 600);
        Assert.Equal(12345, (long)claims["iss"]!);
        Assert.True(Key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]),
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public async Task Installation_token_is_reused_across_calls_until_shortly_before_it_expires()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gitHub = new StandInServer(new StandInOptions { Clock = clock });
        await gitHub.StartAsync();
        using var factory = Factory(gitHub, clock);

        for (var call = 0; call < 5; call++)
        {
            var client = await factory.CreateAsync(77, null, CancellationToken.None);
            await client.Repository.Deployment.GetAll("octo", "app");
        }

        Assert.Equal(1, TokenRequests(gitHub));
        var calls = gitHub.State.Requests.Where(r => r.Path.EndsWith("/deployments", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, calls.Count);
        Assert.Single(calls.Select(c => c.Authorization).Distinct());
        Assert.StartsWith("Token ghs_standin", calls[0].Authorization, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith($"DeployFunctions/{DeployFunctions.Tests.Support.RepositoryRoot.ProjectVersion()} ", calls[0].UserAgent, StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromMinutes(54)); // 6 minutes left: still good
        await factory.CreateAsync(77, null, CancellationToken.None);
        Assert.Equal(1, TokenRequests(gitHub));

        clock.Advance(TimeSpan.FromMinutes(2)); // 4 minutes left: refresh
        await factory.CreateAsync(77, null, CancellationToken.None);
        Assert.Equal(2, TokenRequests(gitHub));

        await factory.CreateAsync(78, null, CancellationToken.None); // another installation has its own token
        Assert.Equal(3, TokenRequests(gitHub));
    }

    [Fact]
    public async Task A_delivery_without_an_installation_id_uses_the_Apps_installation_on_the_repository_looked_up_once()
    {
        await using var gitHub = new StandInServer(new StandInOptions());
        await gitHub.StartAsync();
        gitHub.State.InstallApp("octo/app", 4242);
        using var factory = Factory(gitHub, TimeProvider.System);

        for (var call = 0; call < 3; call++)
        {
            var client = await factory.CreateAsync(null, "octo/app", CancellationToken.None);
            await client.Repository.Deployment.GetAll("octo", "app");
        }

        var lookups = gitHub.State.Requests.Where(r => r.Path == "/repos/octo/app/installation").ToList();
        Assert.Single(lookups);
        Assert.StartsWith("Bearer ", lookups[0].Authorization, StringComparison.Ordinal);
        Assert.Single(gitHub.State.Requests, r => r.Path == "/app/installations/4242/access_tokens");
    }

    [Fact]
    public async Task A_repository_the_App_is_not_installed_on_is_a_permanent_failure_that_says_so()
    {
        await using var gitHub = new StandInServer(new StandInOptions());
        await gitHub.StartAsync();
        using var factory = Factory(gitHub, TimeProvider.System);

        var failure = await Assert.ThrowsAsync<GitHubPermanentException>(() => factory.CreateAsync(null, "octo/app", CancellationToken.None));
        Assert.Contains("not installed on octo/app", failure.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<GitHubPermanentException>(() => factory.CreateAsync(null, null, CancellationToken.None));
    }

    [Fact]
    public async Task After_the_App_is_reinstalled_the_repositorys_installation_is_looked_up_again()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gitHub = new StandInServer(new StandInOptions { Clock = clock });
        await gitHub.StartAsync();
        gitHub.State.InstallApp("octo/app", 4242);
        using var factory = Factory(gitHub, clock);
        await (await factory.CreateAsync(null, "octo/app", CancellationToken.None)).Repository.Deployment.GetAll("octo", "app");

        // Uninstalled and installed again: a new installation; the old one's tokens are refused and no new one is issued.
        gitHub.State.Uninstall(4242);
        gitHub.State.InstallApp("octo/app", 5151);
        clock.Advance(TimeSpan.FromMinutes(56)); // the cached token is due for renewal
        var renewed = await factory.CreateAsync(null, "octo/app", CancellationToken.None);
        await renewed.Repository.Deployment.GetAll("octo", "app");

        Assert.Equal(2, gitHub.State.Requests.Count(r => r.Path == "/repos/octo/app/installation"));
        Assert.Single(gitHub.State.Requests, r => r.Path == "/app/installations/5151/access_tokens" && r.Status == 201);
    }

    [Fact]
    public async Task A_token_refused_after_a_reinstall_is_dropped_and_the_next_call_uses_the_new_installation()
    {
        await using var gitHub = new StandInServer(new StandInOptions());
        await gitHub.StartAsync();
        gitHub.State.InstallApp("octo/app", 4242);
        using var factory = Factory(gitHub, TimeProvider.System);
        await (await factory.CreateAsync(null, "octo/app", CancellationToken.None)).Repository.Deployment.GetAll("octo", "app");
        gitHub.State.Uninstall(4242);
        gitHub.State.InstallApp("octo/app", 5151);
        var stale = await factory.CreateAsync(null, "octo/app", CancellationToken.None);
        await Assert.ThrowsAsync<AuthorizationException>(() => stale.Repository.Deployment.GetAll("octo", "app"));

        factory.Forget(null, "octo/app"); // what the worker does on a 401
        await (await factory.CreateAsync(null, "octo/app", CancellationToken.None)).Repository.Deployment.GetAll("octo", "app");

        Assert.Single(gitHub.State.Requests, r => r.Path == "/app/installations/5151/access_tokens");
    }

    private static GitHubClientFactory Factory(StandInServer gitHub, TimeProvider clock) => new(
        Options.Create(new GitHubOptions { ApiBaseUrl = gitHub.BaseAddress, AppId = 12345, AppPrivateKey = Key.ExportPkcs8PrivateKeyPem() }),
        clock, NullLogger<GitHubClientFactory>.Instance);

    private static int TokenRequests(StandInServer gitHub) =>
        gitHub.State.Requests.Count(r => r.Method == "POST" && r.Path.EndsWith("/access_tokens", StringComparison.Ordinal));
}
