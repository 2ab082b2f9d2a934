using System.Collections.Concurrent;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.Timers;

namespace FunctionsHostHarness;

/// <summary>
/// The WebJobs SDK's own timer extension, scheduling the worker's timer functions: each generic slot takes the
/// schedule its function names (a resolved <c>%Setting%</c>), and each tick is sent to the worker with the
/// <c>TimerInfo</c> the host sends (JSON). Unused slots are disabled.
/// </summary>
public sealed class TimerSlots(TimerDispatcher dispatcher)
{
    public const int Count = 4;

    public static string ScheduleSetting(int slot) => $"HarnessTimer{slot}";

    public static string DisabledSetting(int slot) => $"HarnessTimer{slot}Disabled";

    [Disable("HarnessTimer0Disabled")]
    public Task Slot0([TimerTrigger("%HarnessTimer0%", UseMonitor = false)] TimerInfo timer) => dispatcher.InvokeAsync(0, timer);

    [Disable("HarnessTimer1Disabled")]
    public Task Slot1([TimerTrigger("%HarnessTimer1%", UseMonitor = false)] TimerInfo timer) => dispatcher.InvokeAsync(1, timer);

    [Disable("HarnessTimer2Disabled")]
    public Task Slot2([TimerTrigger("%HarnessTimer2%", UseMonitor = false)] TimerInfo timer) => dispatcher.InvokeAsync(2, timer);

    [Disable("HarnessTimer3Disabled")]
    public Task Slot3([TimerTrigger("%HarnessTimer3%", UseMonitor = false)] TimerInfo timer) => dispatcher.InvokeAsync(3, timer);
}

/// <summary>Sends a timer tick to the worker function of its slot and waits for the worker's answer.</summary>
public sealed class TimerDispatcher(WorkerChannel channel)
{
    private readonly Dictionary<int, HostedFunction> slots = [];

    /// <summary>Ticks each timer function completed in the worker, by function name.</summary>
    public ConcurrentDictionary<string, int> Completed { get; } = new(StringComparer.Ordinal);

    /// <summary>Ticks the worker reported as failed, with the reason.</summary>
    public ConcurrentQueue<string> Failures { get; } = new();

    public void Assign(int slot, HostedFunction function) => slots[slot] = function;

    public async Task InvokeAsync(int slot, TimerInfo timer)
    {
        ArgumentNullException.ThrowIfNull(timer);
        var function = slots[slot];
        var invocationId = Guid.NewGuid().ToString();
        var request = new InvocationRequest
        {
            InvocationId = invocationId,
            FunctionId = function.FunctionId,
            TraceContext = new RpcTraceContext { TraceParent = $"00-{Guid.NewGuid():N}-{Guid.NewGuid().ToString("N")[..16]}-01", TraceState = "" },
        };
        request.InputData.Add(new ParameterBinding
        {
            Name = (string)function.Trigger["name"]!,
            Data = new TypedData
            {
                Json = System.Text.Json.JsonSerializer.Serialize(new
                {
                    Schedule = new { AdjustForDST = true },
                    ScheduleStatus = (object?)null,
                    IsPastDue = timer.IsPastDue,
                }),
            },
        });

        var answer = await channel.RequestAsync("invocation:" + invocationId, new StreamingMessage { InvocationRequest = request }, CancellationToken.None);
        var result = answer.InvocationResponse.Result;
        if (result.Status == StatusResult.Types.Status.Success)
        {
            Completed.AddOrUpdate(function.Name, 1, (_, count) => count + 1);
        }
        else
        {
            Failures.Enqueue($"{function.Name}: {result.Exception?.Message ?? result.Result}");
        }
    }
}

/// <summary>The slots use no schedule monitor (<c>UseMonitor = false</c>); this one stands in for the storage-backed default.</summary>
internal sealed class NoScheduleMonitor : ScheduleMonitor
{
    public override Task<ScheduleStatus> GetStatusAsync(string timerName) => Task.FromResult<ScheduleStatus>(null!);

    public override Task UpdateStatusAsync(string timerName, ScheduleStatus status) => Task.CompletedTask;
}
