using System.Collections.Concurrent;

namespace DeployFunctions.GitHub;

/// <summary>
/// Remembers, per set of credentials (a GitHub App installation, or the token), until when GitHub asked us to stop
/// calling. GitHub blocks integrations that keep calling while limited; with the gate, the other messages of this
/// instance wait too instead of each running into the limit.
/// </summary>
public sealed class GitHubRateGate
{
    private readonly ConcurrentDictionary<long, DateTimeOffset> until = new();

    /// <summary>The key of the token's credentials (no installation).</summary>
    private const long TokenKey = -1;

    public void Block(long? installationId, DateTimeOffset through) =>
        until.AddOrUpdate(installationId ?? TokenKey, through, (_, current) => current > through ? current : through);

    /// <summary>How long calls with these credentials must still wait, or null when they may go ahead.</summary>
    public TimeSpan? Wait(long? installationId, DateTimeOffset now) =>
        until.TryGetValue(installationId ?? TokenKey, out var through) && through > now ? through - now : null;
}
