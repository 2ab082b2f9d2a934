using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace FunctionsHostHarness;

/// <summary>
/// The host's end of the worker's one bidirectional <c>EventStream</c>: requests go out in order, answers are matched to
/// what asked for them (init, metadata, each function load, each invocation), and the worker's log lines are kept.
/// </summary>
public sealed class WorkerChannel : FunctionRpc.FunctionRpcBase
{
    private readonly TaskCompletionSource<IServerStreamWriter<StreamingMessage>> connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> waiting = new();
    private readonly SemaphoreSlim writing = new(1, 1);

    /// <summary>The worker's log lines (<c>RpcLog</c>), as "Level Category: Message".</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    /// <summary>Completes with the worker id once the worker opened the stream (<c>StartStream</c>).</summary>
    public TaskCompletionSource<string> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task EventStream(
        IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(context);
        connected.TrySetResult(responseStream);
        var reading = ReadAsync(requestStream, context.CancellationToken);
        await Task.WhenAny(reading, closed.Task);
    }

    /// <summary>Sends <paramref name="message"/> and waits for the answer registered under <paramref name="key"/>.</summary>
    public async Task<StreamingMessage> RequestAsync(string key, StreamingMessage message, CancellationToken cancellationToken)
    {
        var answer = waiting.GetOrAdd(key, _ => new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously));
        await SendAsync(message, cancellationToken);
        return await answer.Task.WaitAsync(cancellationToken);
    }

    public async Task SendAsync(StreamingMessage message, CancellationToken cancellationToken)
    {
        var stream = await connected.Task.WaitAsync(cancellationToken);
        await writing.WaitAsync(cancellationToken);
        try
        {
            await stream.WriteAsync(message, cancellationToken);
        }
        finally
        {
            writing.Release();
        }
    }

    public void Close() => closed.TrySetResult();

    /// <summary>Ends every request still waiting for the worker's answer (the host is stopping: none will come).</summary>
    public void FailPending()
    {
        foreach (var waiter in waiting.Values)
        {
            waiter.TrySetException(new OperationCanceledException("The host is stopping; the worker's answer will not be read."));
        }
    }

    /// <summary>The key an answer is matched by: its kind, and the function or invocation it is about.</summary>
    public static string KeyOf(StreamingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.ContentCase switch
        {
            StreamingMessage.ContentOneofCase.WorkerInitResponse => "init",
            StreamingMessage.ContentOneofCase.FunctionMetadataResponse => "metadata",
            StreamingMessage.ContentOneofCase.FunctionLoadResponse => "load:" + message.FunctionLoadResponse.FunctionId,
            StreamingMessage.ContentOneofCase.InvocationResponse => "invocation:" + message.InvocationResponse.InvocationId,
            _ => message.ContentCase.ToString(),
        };
    }

    private async Task ReadAsync(IAsyncStreamReader<StreamingMessage> requests, CancellationToken cancellationToken)
    {
        try
        {
            while (await requests.MoveNext(cancellationToken))
            {
                var message = requests.Current;
                switch (message.ContentCase)
                {
                    case StreamingMessage.ContentOneofCase.StartStream:
                        Started.TrySetResult(message.StartStream.WorkerId);
                        break;
                    case StreamingMessage.ContentOneofCase.RpcLog:
                        Logs.Enqueue($"{message.RpcLog.Level} {message.RpcLog.Category}: {message.RpcLog.Message} {message.RpcLog.Exception?.Message}");
                        break;
                    default:
                        waiting.GetOrAdd(KeyOf(message), _ => new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously))
                            .TrySetResult(message);
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
            // The worker went away.
        }
    }
}
