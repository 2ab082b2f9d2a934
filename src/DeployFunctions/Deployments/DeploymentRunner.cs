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
/// (the process died) is reported <c>error</c> rather than run again, unless its provider is idempotent.
/// </summary>
public sealed class DeploymentRunner(
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
    ConfigGate? configGate = null) : IDeliveryHandler
{
    private readonly CommandOptions commands = commandOptions?.Value ?? new CommandOptions();

    /// <summary>How long a deployment event may wait for its merge to be recorded (GitHub's answer to the merge was lost).</summary>
    public static readonly TimeSpan LedgerWait = TimeSpan.FromMinutes(60);

    private readonly DeployOptions options = deployOptions.Value;
    private readonly Dictionary<string, IDeploymentProvider> providers = providers.ToDictionary(p => p.Kind, StringComparer.Ordinal);

    public bool CallsGitHub => true;

    public DeliveryQueueKind Queue => DeliveryQueueKind.Deployments;

    public async Task<HandlerOutcome> HandleAsync(QueuedDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var created = delivery.Read<DeploymentCreatedEvent>();
        var deployment = created.Deployment ?? throw new InvalidDataException("The payload has no deployment.");
        var repository = created.Repository ?? throw new InvalidDataException("The payload has no repository.");
        var environment = deployment.Environment;
        var what = $"deployment {deployment.Id} of {repository.FullName}@{Short(deployment.Sha)} to {environment}";

        var entry = await ledger.FindDeploymentAsync(repository.FullName, environment, deployment.Id, cancellationToken);
        if (entry is null)
        {
            var approval = await ledger.FindMergeAsync(repository.FullName, environment, deployment.Sha, cancellationToken);
            if (approval is { State: LedgerState.Creating } && clock.GetUtcNow() < delivery.Envelope.ReceivedAt + LedgerWait)
            {
                return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                    $"{what} waits: the merge that approved this commit is still being recorded", IsFault: false);
            }

            return new HandlerOutcome.Skipped(
                $"{what} is not in DeployFunctions' ledger: the app did not create it, so it is not run and no status is posted");
        }

        if (!string.Equals(entry.Sha, deployment.Sha, StringComparison.OrdinalIgnoreCase))
        {
            return new HandlerOutcome.Skipped($"{what} is for another commit than the ledger approved ({Short(entry.Sha)}); not run");
        }

        await using var held = await locks.TryAcquireAsync(LockKeys.Environment(repository.FullName, environment), cancellationToken);
        if (held is null)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                $"{what} waits: another deployment to {environment} is running", IsFault: false);
        }

        var github = await clients.CreateAsync(delivery.Envelope.InstallationId, repository.FullName, cancellationToken);
        var target = new Target(github, repository.Owner.Login, repository.Name, deployment.Id);
        var statuses = await github.Repository.Deployment.Status.GetAll(target.Owner, target.Name, target.DeploymentId);
        var final = statuses.FirstOrDefault(s => GitHubNames.IsFinalDeploymentState(s.State.StringValue));
        if (final is not null)
        {
            return new HandlerOutcome.Completed($"{what} has the final status {final.State.StringValue} already; nothing to do");
        }

        try
        {
            entry = await ledger.FindDeploymentAsync(repository.FullName, environment, deployment.Id, cancellationToken) ?? entry;
            if (!entry.HasResult && !entry.HasRun &&
                (await LockedAsync(entry, delivery.Envelope, cancellationToken) ?? await FrozenAsync(github, entry, repository.DefaultBranch, cancellationToken)) is { } locked)
            {
                if (locked.Wait)
                {
                    return new HandlerOutcome.RetryLater(locked.Poll ?? TimeSpan.FromSeconds(commands.LockPollSeconds), $"{what} waits: {locked.Reason}", IsFault: false);
                }

                entry = await RecordAsync(held, entry with { State = LedgerState.Refused, ResultDescription = $"Not run: {locked.Reason}" }, cancellationToken);
            }

            if (entry is { State: LedgerState.AwaitingReport, ReportUrl: { } statusUrl } &&
                ProviderFor(environment) is (var pollSettings, IPolledProvider polled))
            {
                var job = Job(entry, deployment.Id, environment, delivery.Envelope.DeliveryId, pollSettings, github);
                if (await polled.PollAsync(job, new Uri(statusUrl), cancellationToken) is { } reported)
                {
                    entry = await RecordAsync(held, WithResult(entry, reported), cancellationToken);
                }
            }

            if (!entry.HasResult && entry.State != LedgerState.AwaitingReport)
            {
                var decided = await DecideAsync(entry, cancellationToken);
                if (decided is not null)
                {
                    entry = await RecordAsync(held, decided, cancellationToken);
                }
                else if (await ledger.AwaitingReportAsync(entry.Repository, entry.Environment, cancellationToken) is { } busy &&
                         busy.DeploymentId != entry.DeploymentId)
                {
                    // An asynchronous hook is still carrying out the one before: one deployment per environment at a time
                    // holds across the hook's wait too (the watchdog ends a wait that never reports).
                    return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                        $"{what} waits: deployment {busy.DeploymentId} to {environment} is still being carried out by the deploy hook", IsFault: false);
                }
                else
                {
                    var (settings, provider) = ProviderFor(environment);
                    var job = Job(entry, deployment.Id, environment, delivery.Envelope.DeliveryId, settings, github);
                    var ran = await RunAsync(held, target, entry, provider, job, cancellationToken);
                    if (ran is null)
                    {
                        return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                            $"{what}: the environment's lock was lost during the run; nothing was recorded or reported", IsFault: true);
                    }

                    entry = ran;
                }
            }
        }
        catch (LedgerConflictException conflict)
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds), $"{what}: {conflict.Message}", IsFault: false);
        }

        if (entry.State == LedgerState.AwaitingReport)
        {
            // Still in_progress: the hook's signed report (or its status URL, asked again with back-off) finishes it; the
            // watchdog bounds the wait.
            return entry.ReportUrl is null
                ? new HandlerOutcome.Completed($"{what}: {Describe(entry)}")
                : new HandlerOutcome.RetryLater(PollDelay(entry), $"{what}: {Describe(entry)}", IsFault: false);
        }

        if (!await held.ConfirmAsync(cancellationToken))
        {
            return new HandlerOutcome.RetryLater(TimeSpan.FromSeconds(options.LockWaitSeconds),
                $"{what}: the environment's lock was lost before the result was reported", IsFault: true);
        }

        await ReportAsync(target, entry);
        return new HandlerOutcome.Completed($"{what}: {Describe(entry)}");
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

    /// <summary>
    /// A lock someone other than the requester holds on the environment: wait for it up to <c>Commands__LockWaitMinutes</c>
    /// from the delivery, then refuse. A dry run (noop) changes nothing and is not held up.
    /// </summary>
    private async Task<(bool Wait, string Reason, TimeSpan? Poll)?> LockedAsync(LedgerEntry entry, WebhookEnvelope envelope, CancellationToken cancellationToken)
    {
        if (entry.Noop || environmentLocks is null ||
            await environmentLocks.BlockingAsync(entry.Repository, entry.Environment, entry.RequestedBy, cancellationToken) is not { } locked)
        {
            return null;
        }

        var wait = clock.GetUtcNow() < envelope.ReceivedAt + TimeSpan.FromMinutes(commands.LockWaitMinutes);
        return (wait, wait ? locked.Describe() : $"{locked.Describe()}, still after {commands.LockWaitMinutes} minutes", null);
    }

    /// <summary>
    /// A deploy freeze that began after the deployment was approved (app settings, or the file on its base branch now): a
    /// merge that waits out freezes waits for its end; anything else is refused. A dry run and an admin's
    /// <c>--force</c> are not held. A file that became unusable refuses it: nothing deploys on a guess.
    /// </summary>
    private async Task<(bool Wait, string Reason, TimeSpan? Poll)?> FrozenAsync(
        IGitHubClient github, LedgerEntry entry, string? defaultBranch, CancellationToken cancellationToken)
    {
        if (entry.Noop || entry.Forced)
        {
            return null;
        }

        RepositoryConfig? config = null;
        if (configGate is not null)
        {
            switch (await configGate.CheckAsync(github, entry.Repository, entry.BaseBranch, defaultBranch ?? entry.BaseBranch, cancellationToken))
            {
                case ConfigCheck.Refused refused:
                    return (false, refused.Summary, null);
                case ConfigCheck.Usable usable:
                    config = usable.Config;
                    break;
            }
        }

        if (policy.FreezeOn(entry.Environment, config, clock.GetUtcNow()) is not { } freeze)
        {
            return null;
        }

        var wait = entry.Source == LedgerSources.Merge && policy.MergesWaitOutFreezes(entry.Environment, config);
        var remaining = freeze.Until - clock.GetUtcNow();
        return (wait, freeze.Describe(), remaining < MergedPullRequestHandler.FreezePoll ? remaining + TimeSpan.FromSeconds(1) : MergedPullRequestHandler.FreezePoll);
    }

    /// <summary>Superseded or refused (a result, without running), or null: run it.</summary>
    private async Task<LedgerEntry?> DecideAsync(LedgerEntry entry, CancellationToken cancellationToken)
    {
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

        if (ProviderProblem(entry.Environment) is { } problem)
        {
            return entry with { State = LedgerState.Errored, ResultDescription = $"Not run: {problem}" };
        }

        if (entry.State == LedgerState.Started && !ProviderFor(entry.Environment).Provider.Idempotent)
        {
            return entry with
            {
                State = LedgerState.Interrupted,
                ResultDescription = $"Interrupted: a run started at {entry.StartedAt:u} never reported back; redeploy to try again",
            };
        }

        return null;
    }

    /// <summary>Runs the provider under the lock; null when the lock was lost (nothing recorded, nothing reported).</summary>
    private async Task<LedgerEntry?> RunAsync(
        ILeaseLock held, Target target, LedgerEntry entry, IDeploymentProvider provider, DeploymentJob job, CancellationToken cancellationToken)
    {
        if (!await held.ConfirmAsync(cancellationToken))
        {
            return null;
        }

        await PostAsync(target, new NewDeploymentStatus(DeploymentState.InProgress)
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
                // GitHub did not take the provider's call (a workflow dispatch answered 502, or timed out): as far as
                // anyone knows nothing started, so the worker's retry runs it again instead of calling it interrupted.
                await ledger.UpdateAsync(entry with { State = LedgerState.Created, StartedAt = null }, CancellationToken.None);
                throw;
            }

            result = new ProviderResult.Errored($"GitHub refused the provider's call: {failure.Reason}");
        }

        return await RecordAsync(held, WithResult(entry, result), cancellationToken);
    }

    /// <summary>Records a result, only while the lock is still held and nobody else wrote the row.</summary>
    private async Task<LedgerEntry> RecordAsync(ILeaseLock held, LedgerEntry entry, CancellationToken cancellationToken) =>
        await held.ConfirmAsync(cancellationToken)
            ? await ledger.UpdateAsync(entry, cancellationToken)
            : throw new LedgerConflictException("the environment's lock was lost; the result is not recorded");

    private static LedgerEntry WithResult(LedgerEntry entry, ProviderResult result) => result switch
    {
        ProviderResult.Succeeded s => entry with
        {
            State = LedgerState.Succeeded, ResultDescription = s.Description,
            ResultEnvironmentUrl = s.EnvironmentUrl?.ToString(), ResultLogUrl = s.LogUrl?.ToString(),
        },
        ProviderResult.Failed f => entry with { State = LedgerState.Failed, ResultDescription = f.Description, ResultLogUrl = f.LogUrl?.ToString() },
        ProviderResult.Errored e => entry with { State = LedgerState.Errored, ResultDescription = e.Description },
        ProviderResult.HandedOff h => entry with { State = LedgerState.HandedOff, ResultDescription = h.Description },
        ProviderResult.Accepted a => entry with
        {
            State = LedgerState.AwaitingReport, ReportUrl = a.StatusUrl?.ToString(), ResultLogUrl = a.LogUrl?.ToString(),
            ResultDescription = "Deploy hook accepted the deployment; waiting for its report",
        },
        _ => throw new InvalidOperationException("Unknown provider result."),
    };

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
        return entry.State is LedgerState.AwaitingReport or LedgerState.Started ? WithResult(entry, reported) : null;
    }

    /// <summary>Posts the status that tells GitHub the recorded result (a hand-off posts none: the workflow does).</summary>
    public static Task ReportAsync(IGitHubClient github, LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var (owner, name) = GitHubNames.Split(entry.Repository);
        return ReportAsync(new Target(github, owner, name, entry.DeploymentId ?? 0), entry);
    }

    private static async Task ReportAsync(Target target, LedgerEntry entry)
    {
        var state = entry.State switch
        {
            LedgerState.Succeeded => DeploymentState.Success,
            LedgerState.Failed => DeploymentState.Failure,
            LedgerState.Superseded => DeploymentState.Inactive,
            LedgerState.HandedOff or LedgerState.AwaitingReport => (DeploymentState?)null,
            _ => DeploymentState.Error,
        };
        if (state is not { } posted)
        {
            return;
        }

        await PostAsync(target, new NewDeploymentStatus(posted)
        {
            // A dry run's success must not mark the environment's real deployment inactive.
            AutoInactive = entry.Noop ? false : null,
            EnvironmentUrl = entry.ResultEnvironmentUrl,
            LogUrl = entry.ResultLogUrl,
            Description = DeploymentMarker.Describe(entry.ResultDescription ?? entry.State.ToString()),
        });
    }

    private static string Describe(LedgerEntry entry) => entry.State switch
    {
        LedgerState.Succeeded => "succeeded",
        LedgerState.Failed => $"failed: {entry.ResultDescription}",
        LedgerState.HandedOff => entry.ResultDescription ?? "handed off",
        LedgerState.AwaitingReport => entry.ReportUrl is null ? "accepted by the hook; its signed report will say how it went" : $"accepted by the hook; polling {entry.ReportUrl}",
        _ => $"{entry.State.ToString().ToLowerInvariant()}: {entry.ResultDescription}",
    };

    private (EnvironmentOptions Settings, IDeploymentProvider Provider) ProviderFor(string environment)
    {
        var settings = environments.Value.Find(environment) ?? new EnvironmentOptions();
        return (settings, providers[settings.Provider ?? options.DefaultProvider]);
    }

    /// <summary>Why the environment's provider cannot run (settings missing), before anything is posted.</summary>
    private string? ProviderProblem(string environment)
    {
        var settings = environments.Value.Find(environment) ?? new EnvironmentOptions();
        return EnvironmentOptions.Problem(environment, settings, settings.Provider ?? options.DefaultProvider);
    }

    private static DeploymentJob Job(
        LedgerEntry entry, long deploymentId, string environment, string deliveryId, EnvironmentOptions settings, IGitHubClient github)
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
            Task = entry.Noop ? "deploy:noop" : "deploy",
            Noop = entry.Noop,
            PayloadJson = entry.Payload,
            DeliveryId = deliveryId,
            Branch = entry.BaseBranch,
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

    private static Task<DeploymentStatus> PostAsync(Target target, NewDeploymentStatus status) =>
        target.GitHub.Repository.Deployment.Status.Create(target.Owner, target.Name, target.DeploymentId, status);

    private static string Short(string sha) => sha[..Math.Min(7, sha.Length)];

    private sealed record Target(IGitHubClient GitHub, string Owner, string Name, long DeploymentId);
}
