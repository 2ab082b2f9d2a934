using DeployFunctions.Maintenance;
using DeployFunctions.Previews;
using Microsoft.Azure.Functions.Worker;

namespace DeployFunctions.Functions;

/// <summary>
/// The timer-triggered functions; schedules (NCRONTAB, six fields) come from app settings, as the host requires for
/// binding expressions. Each hands its run to a service tested below the host.
/// </summary>
public sealed class MaintenanceFunctions(DeploymentWatchdog watchdog, PoisonWatch poison, DeliverySweeper sweeper, PreviewSweeper previews)
{
    public const string Watchdog = "DeploymentWatchdog";
    public const string Poison = "PoisonWatch";
    public const string Sweeper = "DeliverySweeper";
    public const string PreviewSweep = "PreviewSweeper";

    [Function(Watchdog)]
    public Task OnWatchdog([TimerTrigger("%WatchdogSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        watchdog.RunAsync(cancellationToken);

    [Function(Poison)]
    public Task OnPoisonWatch([TimerTrigger("%PoisonWatchSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        poison.RunAsync(cancellationToken);

    [Function(Sweeper)]
    public Task OnSweep([TimerTrigger("%SweeperSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        sweeper.RunAsync(cancellationToken);

    [Function(PreviewSweep)]
    public Task OnPreviewSweep([TimerTrigger("%PreviewSweepSchedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        previews.RunAsync(cancellationToken);
}
