using System.Text.Json;
using DeployFunctions.Commands;
using DeployFunctions.Config;
using DeployFunctions.GitHub;
using DeployFunctions.Ledger;
using DeployFunctions.Policy;
using DeployFunctions.Providers;
using DeployFunctions.Queues;
using DeployFunctions.Storage;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;
using Octokit;
using Octokit.Webhooks.Events.Deployment;

namespace DeployFunctions.Deployments;

/// <summary>
/// Carries out a created deployment, if and only if the app approved it: the ledger must have it (what a payload
/// claims is never enough) and the policy must still say yes. Then, one at a time per repository and environment (a
/// lease lock): a deployment older in merge order than one that already ran there is marked <c>inactive</c> instead of
/// run (newest wins); otherwise <c>in_progress</c>, the provider, and <c>success</c> / <c>failure</c> / <c>error</c>.
/// Never twice: the ledger records that a run started before the provider is called and its result before it is
/// reported, each write fenced by the lock and the row's version. A run that started and never recorded a result
/// (the process died) is recovered where its provider can tell what became of it, run again where the provider is
/// idempotent, and otherwise reported <c>error</c>. Only the ledger's result is ever reported: a status someone else
/// posted on GitHub never stops a run. The <c>workflow_run</c> events of the runs it dispatched settle those deployments.
/// </summary>
public sealed partial class DeploymentRunner(
    IDeploymentLedger ledger,
    DeployPolicy policy,
    IGitHubClientFactory clients,
    ILeaseLocks locks,
    IEnumerable<IDeploymentProvider> providers,
    IOptions<DeployOptions> deployOptions,
    IOptions<EnvironmentsOptions> environments,
    TimeProvider clock,
    IEnvironmentLocks? environmentLocks = null,
    IOptions<CommandOptions>? commandOptions = null,
    ConfigGate? configGate = null,
    Previews.PreviewService? previews = null) : IDeliveryHandler
{
    private readonly CommandOptions commands = commandOptions?.Value ?? new CommandOptions();

    /// <summary>How long a deployment event may wait for its approval to be recorded (GitHub's answer to the create was lost).</summary>
    public static readonly TimeSpan LedgerWait = TimeSpan.FromMinutes(60);

    private readonly DeployOptions options = deployOptions.Value;
    private readonly Dictionary<string, IDeploymentProvider> providers = providers.ToDictionary(p => p.Kind, StringComparer.Ordinal);

    public bool CallsGitHub => true;

    public DeliveryQueueKind Queue => DeliveryQueueKind.Deployments;

    public async Task<HandlerOutcome> HandleAsync(QueuedDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        if (delivery.Envelope.Event == WorkflowRunEvent)
        {
            return await SettleRunAsync(delivery, cancellationToken);
        }

        var created = delivery.Read<DeploymentCreatedEvent>();
        var deployment = created.Deployment ?? throw new InvalidDataException("The payload has no deployment.");
        var repository = created.Repository ?? throw new InvalidDataException("The payload has no repository.");
        var environment = deployment.Environment;
        var what = $"deployment {deployment.Id} of {repository.FullName}@{Short(deployment.Sha)} to {environment}";

        var entry = await ledger.FindDeploymentAsync(repository.FullName, environment, deployment.Id, cancellationToken);
        if (entry is null)
        {
            // The event can outrun the ledger: GitHub sends it as soon as the deployment exists, before its answer reaches the
            // app (or when that answer was lost). An approval of this commit still being created may be this deployment's.
            // Only a deployment the app itself created can be that approval's: anyone else's is not waited for.
            if (clock.GetUtcNow() < delivery.Envelope.ReceivedAt + LedgerWait &&
                await ledger.CreatingAsync(repository.FullName, environment, deployment.Sha, cancellationToken) is not null &&
                string.Equals(deployment.Creator?.Login, await clients.IdentityAsync(cancellationToken), StringComparison.OrdinalIgnoreCase))
            {
                return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                    $"{what} waits: the approval of this commit is still being recorded", IsFault: false);
            }

            // The approval may have left 'creating' between the two reads: its deployment row was written in the same transaction.
            entry = await ledger.FindDeploymentAsync(repository.FullName, environment, deployment.Id, cancellationToken);
            if (entry is null)
            {
                return new HandlerOutcome.Skipped(
                    $"{what} is not in DeployFunctions' ledger: the app did not create it, so it is not run and no status is posted");
            }
        }

        if (!string.Equals(entry.Sha, deployment.Sha, StringComparison.OrdinalIgnoreCase))
        {
            return new HandlerOutcome.Skipped($"{what} is for another commit than the ledger approved ({Short(entry.Sha)}); not run");
        }

        var github = await clients.CreateAsync(delivery.Envelope.InstallationId, repository.FullName, cancellationToken);
        if (entry is { IsFinal: true, Reported: true })
        {
            return new HandlerOutcome.Completed($"{what} has its final result already ({Describe(entry)})");
        }

        await using var held = await locks.TryAcquireAsync(LockKeys.Environment(repository.FullName, environment), cancellationToken);
        if (held is null)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                $"{what} waits: another deployment to {environment} is running", IsFault: false);
        }

        // Results whose status post failed (a lost answer, a rate-limit wait) are posted first, under the environment's lock and
        // in the order they ran: posted later, an older deployment's result would follow a newer one's on GitHub and in history.
        await PostOwedAsync(github, repository.FullName, environment, cancellationToken);
        if (entry.IsFinal)
        {
            entry = await ledger.FindDeploymentAsync(repository.FullName, environment, deployment.Id, cancellationToken) ?? entry;
            if (!entry.Reported)
            {
                await DeploymentResults.PostAsync(github, ledger, entry, cancellationToken);
            }

            return new HandlerOutcome.Completed($"{what} has its final result already ({Describe(entry)})");
        }

        var defaultBranch = repository.DefaultBranch ?? entry.BaseBranch;
        try
        {
            entry = await ledger.FindDeploymentAsync(repository.FullName, environment, deployment.Id, cancellationToken) ?? entry;
            if (!entry.HasResult && !entry.HasRun &&
                (await LockedAsync(entry, delivery.Envelope, cancellationToken) ?? await FrozenAsync(github, entry, defaultBranch, cancellationToken)) is { } hold)
            {
                if (hold.Wait)
                {
                    await HoldAsync(held, entry, hold, cancellationToken);
                    return new HandlerOutcome.RetryLater(hold.Poll ?? TimeSpan.FromSeconds(commands.LockPollSeconds), $"{what} waits: {hold.Reason}", IsFault: false);
                }

                entry = await RecordAsync(held, entry with { State = LedgerState.Refused, ResultDescription = $"Not run: {hold.Reason}" }, cancellationToken);
            }

            if (entry is { State: LedgerState.AwaitingReport, ReportUrl: { } statusUrl } &&
                ProviderFor(entry) is (var pollSettings, IPolledProvider polled))
            {
                var job = Job(entry, deployment.Id, environment, delivery.Envelope.DeliveryId, defaultBranch, pollSettings, github);
                if (await polled.PollAsync(job, new Uri(statusUrl), cancellationToken) is { } reported)
                {
                    entry = await RecordAsync(held, DeploymentResults.With(entry, reported), cancellationToken);
                }
            }

            if (!entry.HasResult && entry.State != LedgerState.AwaitingReport)
            {
                var outcome = await CarryOutAsync(held, entry, deployment.Id, environment, delivery.Envelope.DeliveryId, defaultBranch, github, what, cancellationToken);
                if (outcome.Waiting is { } waiting)
                {
                    return waiting;
                }

                entry = outcome.Entry;
            }
        }
        catch (LedgerConflictException conflict)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds), $"{what}: {conflict.Message}", IsFault: false);
        }

        if (entry.State is LedgerState.AwaitingReport)
        {
            // Still in_progress: the hook's signed report (or its status URL, asked again with back-off) finishes it; the
            // watchdog bounds the wait.
            return entry.ReportUrl is null
                ? new HandlerOutcome.Completed($"{what}: {Describe(entry)}")
                : new HandlerOutcome.RetryLater(PollDelay(entry), $"{what}: {Describe(entry)}", IsFault: false);
        }

        if (entry.State is LedgerState.HandedOff)
        {
            return new HandlerOutcome.Completed($"{what}: {Describe(entry)}"); // the run's end settles it
        }

        if (!await held.ConfirmAsync(cancellationToken))
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                $"{what}: the environment's lock was lost before the result was reported", IsFault: true);
        }

        await DeploymentResults.PostAsync(github, ledger, entry, cancellationToken);
        return new HandlerOutcome.Completed($"{what}: {Describe(entry)}");
    }

    private async Task PostOwedAsync(IGitHubClient github, string repository, string environment, CancellationToken cancellationToken)
    {
        var owed = new List<LedgerEntry>();
        await foreach (var unreported in ledger.UnreportedAsync(repository, environment, cancellationToken))
        {
            owed.Add(unreported);
        }

        foreach (var result in owed.OrderBy(e => e.StartedAt ?? e.Order).ThenBy(e => e.DeploymentId))
        {
            await DeploymentResults.PostAsync(github, ledger, result, cancellationToken);
        }
    }

    /// <summary>
    /// Decides and, when nothing stands in the way, runs it: superseded, refused or a provider problem are results without a
    /// run; a run that started and recorded nothing is recovered, run again or reported interrupted.
    /// </summary>
    private async Task<(LedgerEntry Entry, HandlerOutcome? Waiting)> CarryOutAsync(
        ILeaseLock held, LedgerEntry entry, long deploymentId, string environment, string deliveryId, string defaultBranch, IGitHubClient github,
        string what, CancellationToken cancellationToken)
    {
        if (await DecideAsync(entry, cancellationToken) is { } decided)
        {
            return (await RecordAsync(held, decided, cancellationToken), null);
        }

        if (await ledger.AwaitingReportAsync(entry.Repository, entry.Environment, cancellationToken) is { } busy && busy.DeploymentId != entry.DeploymentId)
        {
            // An asynchronous hook is still carrying out the one before: one deployment per environment at a time holds
            // across the hook's wait too (the watchdog ends a wait that never reports).
            return (entry, new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                $"{what} waits: deployment {busy.DeploymentId} to {environment} is still being carried out by the deploy hook", IsFault: false));
        }

        var (settings, provider) = ProviderFor(entry);
        var job = Job(entry, deploymentId, environment, deliveryId, defaultBranch, settings, github);
        if (entry.State == LedgerState.Started && !provider.Idempotent)
        {
            var recovery = provider is IRecoverableProvider recoverable
                ? await recoverable.RecoverAsync(job, entry.StartedAt ?? clock.GetUtcNow(), cancellationToken)
                : new Recovery.Unknown($"a run started at {entry.StartedAt:u} never reported back; redeploy to try again");
            switch (recovery)
            {
                case Recovery.Found found:
                    return (await RecordResultAsync(held, entry, found.Result, cancellationToken), null);
                case Recovery.Wait wait:
                    return (entry, new HandlerOutcome.RetryLater(wait.Delay, $"{what} waits: {wait.Reason}", IsFault: false));
                case Recovery.Unknown unknown:
                    return (await RecordAsync(held, entry with { State = LedgerState.Interrupted, ResultDescription = $"Interrupted: {unknown.Reason}" }, cancellationToken), null);
            }
        }

        var ran = await RunAsync(held, entry, provider, job, cancellationToken);
        return ran is null
            ? (entry, new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                $"{what}: the environment's lock was lost during the run; nothing was recorded or reported", IsFault: true))
            : (ran, null);
    }

    /// <summary>A deployment of ours whose delivery is given up on is left <c>error</c>, not hanging; others are not touched.</summary>
    public async Task OnGiveUpAsync(QueuedDelivery delivery, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var (repository, environment, deploymentId) = Identify(delivery);
        if (repository is null || environment is null || deploymentId is not { } id)
        {
            return;
        }

        try
        {
            // Only a deployment of ours, and only while it has no result: a finished one is never turned into an error.
            if (await ledger.FindDeploymentAsync(repository, environment, id, cancellationToken) is not { HasResult: false } entry)
            {
                return;
            }

            var github = await clients.CreateAsync(delivery.Envelope.InstallationId, repository, cancellationToken);
            var (owner, name) = GitHubNames.Split(entry.Repository);
            await github.Repository.Deployment.Status.Create(owner, name, id,
                new NewDeploymentStatus(DeploymentState.Error)
                {
                    Description = DeploymentMarker.Describe($"DeployFunctions gave up: {reason}"),
                });
        }
        catch (Exception exception) when (GitHubFailure.Classify(exception, clock.GetUtcNow()) is not null ||
                                          exception is Azure.RequestFailedException)
        {
            // Best effort: the poison queue and the error log still say what happened.
        }
    }

    /// <summary>Superseded, refused or impossible (a result, without running), or null: run it.</summary>
    private async Task<LedgerEntry?> DecideAsync(LedgerEntry entry, CancellationToken cancellationToken)
    {
        // A preview runs only while its pull request is open and this is the head its preview shows.
        if (entry.Source == LedgerSources.Preview &&
            (previews is null ? (LedgerState.Refused, "Not run: previews are not set up here") : await previews.WhyNotRunAsync(entry, cancellationToken)) is var (state, reason))
        {
            return entry with { State = state, ResultDescription = reason };
        }

        if (!entry.Noop && await ledger.NewerThatRanAsync(entry, cancellationToken) is { } newer)
        {
            return entry with
            {
                State = LedgerState.Superseded,
                ResultDescription = $"Superseded by deployment {newer.DeploymentId} ({Short(newer.Sha)}), merged later; not run",
            };
        }

        if (policy.Recheck(entry) is { } no)
        {
            return entry with { State = LedgerState.Refused, ResultDescription = $"Not run: {no}" };
        }

        return ProviderProblem(entry) is { } problem
            ? entry with { State = LedgerState.Errored, ResultDescription = $"Not run: {problem}" }
            : null;
    }

    /// <summary>Runs the provider under the lock; null when the lock was lost (nothing recorded, nothing reported).</summary>
    private async Task<LedgerEntry?> RunAsync(
        ILeaseLock held, LedgerEntry entry, IDeploymentProvider provider, DeploymentJob job, CancellationToken cancellationToken)
    {
        if (!await held.ConfirmAsync(cancellationToken))
        {
            return null;
        }

        await job.GitHub.Repository.Deployment.Status.Create(job.Owner, job.Repository, job.DeploymentId, new NewDeploymentStatus(DeploymentState.InProgress)
        {
            LogUrl = provider.LogUrlFor(job)?.ToString(),
            Description = DeploymentMarker.Describe($"Deploying with the {provider.Kind} provider"),
        });
        entry = await ledger.UpdateAsync(entry with { State = LedgerState.Started, StartedAt = clock.GetUtcNow() }, cancellationToken);

        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, held.Lost);
        ProviderResult result;
        try
        {
            result = await provider.DeployAsync(job, run.Token);
        }
        catch (OperationCanceledException) when (held.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (DeploymentProviderException exception)
        {
            result = new ProviderResult.Errored(exception.Message);
        }
        catch (Exception exception) when (GitHubFailure.Classify(exception, clock.GetUtcNow()) is { } failure)
        {
            if (failure.Transient)
            {
                // GitHub did not answer the provider's call (a dispatch answered 502, or timed out): it may or may not have
                // started something. A provider that can find out is asked on the retry (the run stays started); for any
                // other, nothing is known to have started, and the retry runs it again.
                if (provider is not IRecoverableProvider)
                {
                    await ledger.UpdateAsync(entry with { State = LedgerState.Created, StartedAt = null }, CancellationToken.None);
                }

                throw;
            }

            result = new ProviderResult.Errored($"GitHub refused the provider's call: {failure.Reason}");
        }

        return await RecordResultAsync(held, entry, result, cancellationToken);
    }

    /// <summary>Records a provider's result; a workflow run it handed the deployment to is indexed first, so its events find it.</summary>
    private async Task<LedgerEntry> RecordResultAsync(ILeaseLock held, LedgerEntry entry, ProviderResult result, CancellationToken cancellationToken)
    {
        var updated = DeploymentResults.With(entry, result);
        if (updated.RunId is { } runId && entry.RunId != runId)
        {
            await ledger.RecordRunAsync(updated, runId, cancellationToken);
        }

        return await RecordAsync(held, updated, cancellationToken);
    }

    /// <summary>Records a result, only while the lock is still held and nobody else wrote the row.</summary>
    private async Task<LedgerEntry> RecordAsync(ILeaseLock held, LedgerEntry entry, CancellationToken cancellationToken) =>
        await held.ConfirmAsync(cancellationToken)
            ? await ledger.UpdateAsync(entry, cancellationToken)
            : throw new LedgerConflictException("the environment's lock was lost; the result is not recorded");

    /// <summary>Back-off for polling a hook's status URL: a quarter of the time it has run so far, from 5 s up to 5 minutes.</summary>
    private TimeSpan PollDelay(LedgerEntry entry)
    {
        var elapsed = clock.GetUtcNow() - (entry.StartedAt ?? clock.GetUtcNow());
        return TimeSpan.FromTicks(Math.Clamp(elapsed.Ticks / 4, TimeSpan.FromSeconds(5).Ticks, TimeSpan.FromMinutes(5).Ticks));
    }

    /// <summary>A result reported from outside the run (a hook's signed callback): recorded if the deployment awaits it.</summary>
    public static LedgerEntry? Apply(LedgerEntry entry, ProviderResult reported)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.State is LedgerState.AwaitingReport or LedgerState.Started ? DeploymentResults.With(entry, reported) : null;
    }

    private static string Describe(LedgerEntry entry) => entry.State switch
    {
        LedgerState.Succeeded => "succeeded",
        LedgerState.Failed => $"failed: {entry.ResultDescription}",
        LedgerState.HandedOff => entry.ResultDescription ?? "handed off",
        LedgerState.AwaitingReport => entry.ReportUrl is null
            ? "accepted by the hook; its signed report will say how it went"
            : $"accepted by the hook; polling {Redacted.Url(entry.ReportUrl)}",
        _ => $"{entry.State.ToString().ToLowerInvariant()}: {entry.ResultDescription}",
    };

    /// <summary>The deployment's settings and provider: its target's (from the ledger), else its environment's.</summary>
    private (EnvironmentOptions Settings, IDeploymentProvider Provider) ProviderFor(LedgerEntry entry)
    {
        var settings = (environments.Value.Find(entry.Environment, entry.Target) ?? new EnvironmentOptions()).For(entry.EnvironmentUrl, entry.Workflow);
        return (settings, providers[settings.Provider ?? options.DefaultProvider]);
    }

    /// <summary>Why the deployment's provider cannot run (settings missing, or its target withdrawn), before anything is posted.</summary>
    private string? ProviderProblem(LedgerEntry entry)
    {
        if (entry.Target is { } target && !environments.Value.Targets.ContainsKey(target))
        {
            return $"its target '{target}' is no longer in the app's settings (Targets__{target}__*)";
        }

        var settings = environments.Value.Find(entry.Environment, entry.Target) ?? new EnvironmentOptions();
        return entry.Target is { } named
            ? EnvironmentOptions.Problem(named, settings, settings.Provider ?? options.DefaultProvider, EnvironmentsOptions.TargetsSectionName)
            : EnvironmentOptions.Problem(entry.Environment, settings, settings.Provider ?? options.DefaultProvider);
    }

    /// <summary>The provider's job for a ledger deployment: everything that decides what runs comes from the ledger.</summary>
    internal static DeploymentJob Job(
        LedgerEntry entry, long deploymentId, string environment, string deliveryId, string defaultBranch, EnvironmentOptions settings, IGitHubClient github)
    {
        var (owner, name) = GitHubNames.Split(entry.Repository);
        return new DeploymentJob
        {
            Owner = owner,
            Repository = name,
            DeploymentId = deploymentId,
            // Everything that decides what runs comes from the ledger, never from the event's payload.
            Sha = entry.Sha,
            Ref = entry.Ref,
            Environment = environment,
            Task = entry.Noop ? "deploy:noop" : entry.Source == LedgerSources.Preview ? Previews.PreviewService.Task : "deploy",
            Noop = entry.Noop,
            PayloadJson = entry.Payload,
            DeliveryId = deliveryId,
            DefaultBranch = defaultBranch,
            Settings = settings,
            GitHub = github,
        };
    }

    private static (string? Repository, string? Environment, long? DeploymentId) Identify(QueuedDelivery delivery)
    {
        if (delivery.Payload.IsEmpty)
        {
            // The payload is lost: the envelope still names the deployment.
            return (delivery.Envelope.Repository, delivery.Envelope.Environment, delivery.Envelope.DeploymentId);
        }

        try
        {
            var created = JsonSerializer.Deserialize<DeploymentCreatedEvent>(delivery.Payload.Span, QueuedDelivery.SerializerOptions);
            return (created?.Repository?.FullName, created?.Deployment?.Environment, created?.Deployment?.Id);
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }

    private static string Short(string sha) => sha[..Math.Min(7, sha.Length)];
}
