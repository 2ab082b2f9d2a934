using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.Storage.Queues;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.Extensions.Azure;

namespace FunctionsHostHarness;

/// <summary>
/// The WebJobs SDK's own queue listener (polling, visibility, dequeue count, poison queue), as the Functions host runs
/// it. Each queue-triggered worker function gets a slot: a WebJobs function whose queue is the app setting
/// <c>HarnessQueue&lt;n&gt;</c> (set to what the worker function's <c>%Setting%</c> resolves to); unused slots are disabled.
/// The message reaches the worker as the host sends an SDK-type binding: the queue extension's own converter turns it
/// into <c>ParameterBindingData</c>, forwarded as <c>ModelBindingData</c>.
/// </summary>
public sealed class QueueSlots(QueueDispatcher dispatcher)
{
    public const int Count = 6;

    public static string QueueSetting(int slot) => $"HarnessQueue{slot}";

    public static string DisabledSetting(int slot) => $"HarnessQueue{slot}Disabled";

    [Disable("HarnessQueue0Disabled")]
    public Task Slot0([QueueTrigger("%HarnessQueue0%", Connection = "AzureWebJobsStorage")] ParameterBindingData message, long dequeueCount, string id) =>
        dispatcher.InvokeAsync(0, message, dequeueCount, id);

    [Disable("HarnessQueue1Disabled")]
    public Task Slot1([QueueTrigger("%HarnessQueue1%", Connection = "AzureWebJobsStorage")] ParameterBindingData message, long dequeueCount, string id) =>
        dispatcher.InvokeAsync(1, message, dequeueCount, id);

    [Disable("HarnessQueue2Disabled")]
    public Task Slot2([QueueTrigger("%HarnessQueue2%", Connection = "AzureWebJobsStorage")] ParameterBindingData message, long dequeueCount, string id) =>
        dispatcher.InvokeAsync(2, message, dequeueCount, id);

    [Disable("HarnessQueue3Disabled")]
    public Task Slot3([QueueTrigger("%HarnessQueue3%", Connection = "AzureWebJobsStorage")] ParameterBindingData message, long dequeueCount, string id) =>
        dispatcher.InvokeAsync(3, message, dequeueCount, id);

    [Disable("HarnessQueue4Disabled")]
    public Task Slot4([QueueTrigger("%HarnessQueue4%", Connection = "AzureWebJobsStorage")] ParameterBindingData message, long dequeueCount, string id) =>
        dispatcher.InvokeAsync(4, message, dequeueCount, id);

    [Disable("HarnessQueue5Disabled")]
    public Task Slot5([QueueTrigger("%HarnessQueue5%", Connection = "AzureWebJobsStorage")] ParameterBindingData message, long dequeueCount, string id) =>
        dispatcher.InvokeAsync(5, message, dequeueCount, id);
}

/// <summary>A worker invocation that failed; thrown so the queue listener retries the message and finally poisons it.</summary>
public sealed class WorkerInvocationException : Exception
{
    public WorkerInvocationException()
    {
    }

    public WorkerInvocationException(string message)
        : base(message)
    {
    }

    public WorkerInvocationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Sends a queue message to the worker function of its slot and waits for the worker's answer.</summary>
public sealed class QueueDispatcher(WorkerChannel channel)
{
    private readonly Dictionary<int, HostedFunction> slots = [];
    private int invocations;
    private int failures;
    private int inFlight;

    /// <summary>Invocations sent to the worker and not answered yet.</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    /// <summary>Queue messages sent to the worker.</summary>
    public int Invocations => Volatile.Read(ref invocations);

    /// <summary>Of those, how many the worker reported as failed.</summary>
    public int Failures => Volatile.Read(ref failures);

    public void Assign(int slot, HostedFunction function) => slots[slot] = function;

    public async Task InvokeAsync(int slot, ParameterBindingData message, long dequeueCount, string id)
    {
        ArgumentNullException.ThrowIfNull(message);
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
                ModelBindingData = new ModelBindingData
                {
                    Version = message.Version,
                    Source = message.Source,
                    ContentType = message.ContentType,
                    Content = ByteString.CopyFrom(message.Content.ToArray()),
                },
            },
        });
        // Scalars travel as JSON, as the host sends them (the worker does not read TypedData.Int).
        request.TriggerMetadata["DequeueCount"] = new TypedData { Json = dequeueCount.ToString(CultureInfo.InvariantCulture) };
        request.TriggerMetadata["Id"] = new TypedData { Json = System.Text.Json.JsonSerializer.Serialize(id) };

        Interlocked.Increment(ref invocations);
        Interlocked.Increment(ref inFlight);
        StreamingMessage answer;
        try
        {
            answer = await channel.RequestAsync("invocation:" + invocationId, new StreamingMessage { InvocationRequest = request }, CancellationToken.None);
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
        }

        var result = answer.InvocationResponse.Result;
        if (result.Status != StatusResult.Types.Status.Success)
        {
            Interlocked.Increment(ref failures);
            throw new WorkerInvocationException($"{function.Name} failed: {result.Exception?.Message ?? result.Result}");
        }
    }
}

/// <summary>Finds only the slot functions (the SDK would otherwise scan the test runner's assemblies).</summary>
internal sealed class SlotTypeLocator : ITypeLocator
{
    public IReadOnlyList<Type> GetTypes() => [typeof(QueueSlots), typeof(TimerSlots)];
}

/// <summary>The <c>extensions.queues</c> section of the app's <c>host.json</c>, applied to the SDK's options.</summary>
internal static class HostJsonQueues
{
    public static void Apply(string hostJson, QueuesOptions options)
    {
        var queues = JsonNode.Parse(File.ReadAllText(hostJson))?["extensions"]?["queues"];
        if (queues is null)
        {
            return;
        }

        if ((string?)queues["maxPollingInterval"] is { } polling)
        {
            options.MaxPollingInterval = TimeSpan.Parse(polling, CultureInfo.InvariantCulture);
        }

        if ((string?)queues["visibilityTimeout"] is { } visibility)
        {
            options.VisibilityTimeout = TimeSpan.Parse(visibility, CultureInfo.InvariantCulture);
        }

        options.BatchSize = (int?)queues["batchSize"] ?? options.BatchSize;
        options.NewBatchThreshold = (int?)queues["newBatchThreshold"] ?? options.NewBatchThreshold;
        options.MaxDequeueCount = (int?)queues["maxDequeueCount"] ?? options.MaxDequeueCount;
        if ((string?)queues["messageEncoding"] is { } encoding)
        {
            options.MessageEncoding = Enum.Parse<Azure.Storage.Queues.QueueMessageEncoding>(encoding, ignoreCase: true);
        }
    }
}
