using System.Globalization;
using DeployFunctions.Commands;
using DeployFunctions.GitHub;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;

namespace DeployFunctions.Maintenance;

/// <summary>Which hooks the sweeper looks after. Section <c>Sweeper</c>.</summary>
public sealed class SweeperOptions
{
    public const string SectionName = "Sweeper";

    /// <summary>
    /// Repository hooks <c>owner/name#hookId</c> and organization hooks <c>org#hookId</c>, separated by <c>;</c>.
    /// App setting <c>Sweeper__Hooks</c>.
    /// </summary>
    public string? Hooks { get; set; }

    /// <summary>Also sweep the GitHub App's own hook (<c>/app/hook/deliveries</c>). App setting <c>Sweeper__AppHook</c>.</summary>
    public bool AppHook { get; set; }

    /// <summary>Redeliveries asked for in one run at most. App setting <c>Sweeper__MaxPerRun</c>.</summary>
    public int MaxPerRun { get; set; } = 20;

    /// <summary>Attempts of one delivery (GitHub's and ours) after which it is left alone. App setting <c>Sweeper__MaxAttempts</c>.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Pages of 100 deliveries read per hook and run. App setting <c>Sweeper__Pages</c>.</summary>
    public int Pages { get; set; } = 3;
}

/// <summary>What one sweep did.</summary>
public sealed class SweepReport
{
    public int Redelivered { get; set; }
    public int FailedSeen { get; set; }

    /// <summary>Hooks GitHub refused this run; the next run tries them again.</summary>
    public int Failed { get; set; }
}

/// <summary>
/// GitHub never redelivers by itself: a delivery that met a cold start past 10 s or a 503 during a storage outage is lost
/// unless someone asks again. Each run lists the recent deliveries of the configured hooks, finds the GUIDs with no
/// successful attempt, and asks GitHub to redeliver the latest attempt of each (<c>POST .../deliveries/{id}/attempts</c>),
/// within GitHub's three-day redelivery window, at most <c>Sweeper__MaxPerRun</c> per run. A mark per attempt taken
/// before asking makes it idempotent across concurrent runs; a redelivery that fails too is tried again by a later run,
/// up to <c>Sweeper__MaxAttempts</c> attempts in all.
/// </summary>
public sealed partial class DeliverySweeper(
    IGitHubClientFactory clients,
    IEnvironmentLocks marks,
    IOptions<SweeperOptions> options,
    TimeProvider clock,
    ILogger<DeliverySweeper> logger)
{
    /// <summary>GitHub redelivers deliveries of the last three days; an hour of margin for the request itself.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(3) - TimeSpan.FromHours(1);

    private const string Partition = "~sweeper";

    public async Task<SweepReport> RunAsync(CancellationToken cancellationToken)
    {
        var report = new SweepReport();
        foreach (var (label, path, repository) in Targets())
        {
            try
            {
                var github = path.StartsWith("app/", StringComparison.Ordinal)
                    ? clients.CreateAppClient()
                    : await clients.CreateAsync(null, repository, cancellationToken);
                if (github is not null)
                {
                    await SweepAsync(github, label, path, report, cancellationToken);
                }
            }
            catch (Exception exception) when (GitHubFailure.Classify(exception, clock.GetUtcNow()) is not null || exception is Azure.RequestFailedException)
            {
                // One hook that cannot be reached (gone, uninstalled, a redelivery refused) does not stop the others.
                report.Failed++;
                LogHookFailed(logger, label, exception.Message);
            }
        }

        return report;
    }

    private async Task SweepAsync(IGitHubClient github, string label, string path, SweepReport report, CancellationToken cancellationToken)
    {
        var api = new ApiConnection(github.Connection);
        var deliveries = await api.GetAll<HookDelivery>(new Uri(path + "/deliveries", UriKind.Relative),
            new Dictionary<string, string>(), new ApiOptions { PageSize = 100, PageCount = options.Value.Pages });
        var now = clock.GetUtcNow();
        foreach (var attempts in deliveries.GroupBy(d => d.DeliveryGuid))
        {
            if (report.Redelivered >= options.Value.MaxPerRun)
            {
                return;
            }

            if (attempts.Any(a => a.StatusCode is >= 200 and < 300))
            {
                continue; // delivered: whatever failed before, the app has it now
            }

            report.FailedSeen++;
            var latest = attempts.OrderBy(a => a.DeliveredAt).Last();
            if (now - attempts.Min(a => a.DeliveredAt) > Window || attempts.Count() >= options.Value.MaxAttempts)
            {
                continue;
            }

            var mark = $"redeliver:{label}:{latest.DeliveryGuid}:{latest.Id.ToString(CultureInfo.InvariantCulture)}";
            if (!await marks.TryMarkOnceAsync(Partition, mark, cancellationToken))
            {
                continue; // this attempt was (or is being) redelivered by another run
            }

            try
            {
                await api.Connection.Post(new Uri($"{path}/deliveries/{latest.Id.ToString(CultureInfo.InvariantCulture)}/attempts", UriKind.Relative), cancellationToken);
            }
            catch
            {
                await marks.ForgetMarkAsync(Partition, mark, CancellationToken.None);
                throw;
            }

            LogRedelivered(logger, latest.DeliveryGuid, latest.Event, label, latest.StatusCode);
            report.Redelivered++;
        }
    }

    private IEnumerable<(string Label, string Path, string? Repository)> Targets()
    {
        foreach (var hook in Deployments.DeployOptions.Split(options.Value.Hooks))
        {
            var hash = hook.LastIndexOf('#');
            if (hash <= 0 || !long.TryParse(hook[(hash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                continue; // validated at start-up
            }

            var owner = hook[..hash];
            yield return owner.Contains('/', StringComparison.Ordinal)
                ? (hook, $"repos/{owner}/hooks/{id}", owner)
                : (hook, $"orgs/{owner}/hooks/{id}", null);
        }

        if (options.Value.AppHook)
        {
            yield return ("app", "app/hook", null);
        }
    }

    /// <summary>The fields of GitHub's <c>hook-delivery-item</c> the sweeper reads.</summary>
    public sealed class HookDelivery
    {
        public long Id { get; set; }
        [Octokit.Internal.Parameter(Key = "guid")]
        public string DeliveryGuid { get; set; } = "";
        public DateTimeOffset DeliveredAt { get; set; }
        public int StatusCode { get; set; }
        public string? Event { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeper: hook {Hook} could not be swept this run: {Error}")]
    private static partial void LogHookFailed(ILogger logger, string hook, string error);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Sweeper: asked GitHub to redeliver {Guid} ({Event}) of hook {Hook}, which last answered {StatusCode}")]
    private static partial void LogRedelivered(ILogger logger, string guid, string? @event, string hook, int statusCode);
}

/// <summary>
/// The timer functions' schedules: root-level app settings, as the host reads them in binding expressions
/// (<c>%WatchdogSchedule%</c>). NCRONTAB with seconds: <c>0 */5 * * * *</c> is every five minutes.
/// </summary>
public sealed class MaintenanceScheduleOptions
{
    public string WatchdogSchedule { get; set; } = "0 */5 * * * *";
    public string PoisonWatchSchedule { get; set; } = "30 */5 * * * *";
    public string SweeperSchedule { get; set; } = "0 */10 * * * *";

    /// <summary>The previews' timer (idle and lost closes): hourly.</summary>
    public string PreviewSweepSchedule { get; set; } = "0 20 * * * *";

    public static string? Problem(string setting, string schedule)
    {
        try
        {
            Cronos.CronExpression.Parse(schedule, Cronos.CronFormat.IncludeSeconds);
            return null;
        }
        catch (Cronos.CronFormatException)
        {
            return $"App setting {setting} ('{schedule}') must be a six-field NCRONTAB schedule, e.g. 0 */5 * * * *.";
        }
    }
}
