using System.Collections.Concurrent;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using DeployFunctions.Functions;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// Does what the Functions host's queue trigger does, against real Azurite queues: receives messages (base64),
/// invokes the queue function with the <see cref="QueueMessage"/>, deletes the message on success, lets it
/// reappear after the visibility timeout on failure, and moves it to <c>&lt;queue&gt;-poison</c> on its last attempt.
/// </summary>
internal sealed class QueuePump : IAsyncDisposable
{
    private readonly QueueServiceClient queues;
    private readonly IServiceProvider services;
    private readonly TimeSpan visibility;
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> loops = [];
    private int invocations;

    public QueuePump(QueueServiceClient queues, IServiceProvider services, TimeSpan? visibility = null)
    {
        this.queues = queues;
        this.services = services;
        this.visibility = visibility ?? TimeSpan.FromSeconds(2);
    }

    public ConcurrentQueue<Exception> Failures { get; } = new();

    public int Invocations => Volatile.Read(ref invocations);

    public void Start(string pullRequests, string deployments, string statuses, string? commands = null, string? protectionRules = null, string? previews = null)
    {
        loops.Add(PumpAsync(pullRequests, (f, m, c) => f.OnMergedPullRequest(m, c)));
        loops.Add(PumpAsync(deployments, (f, m, c) => f.OnDeployment(m, c)));
        loops.Add(PumpAsync(statuses, (f, m, c) => f.OnDeploymentStatus(m, c)));
        if (commands is not null)
        {
            loops.Add(PumpAsync(commands, (f, m, c) => f.OnCommand(m, c)));
        }

        if (protectionRules is not null)
        {
            loops.Add(PumpAsync(protectionRules, (f, m, c) => f.OnProtectionRule(m, c)));
        }

        if (previews is not null)
        {
            loops.Add(PumpAsync(previews, (f, m, c) => f.OnPreview(m, c)));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }

    private async Task PumpAsync(string queueName, Func<QueuedDeliveryFunctions, QueueMessage, CancellationToken, Task> invoke)
    {
        var queue = queues.GetQueueClient(queueName);
        var poison = queues.GetQueueClient(queueName + "-poison");
        await queue.CreateIfNotExistsAsync(cancellationToken: stop.Token);
        while (!stop.IsCancellationRequested)
        {
            QueueMessage[] batch;
            try
            {
                batch = (await queue.ReceiveMessagesAsync(16, visibility, stop.Token)).Value;
            }
            catch (Exception exception) when (exception is OperationCanceledException || stop.IsCancellationRequested)
            {
                // Stopping: a receive cut off mid-answer can also fail as a half-read XML body, not only as a cancellation.
                return;
            }

            if (batch.Length == 0)
            {
                await Task.Delay(50, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                continue;
            }

            await Task.WhenAll(batch.Select(async message =>
            {
                Interlocked.Increment(ref invocations);
                try
                {
                    var function = services.GetRequiredService<QueuedDeliveryFunctions>();
                    await invoke(function, message, stop.Token);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                }
                catch (Exception exception) when (!stop.IsCancellationRequested)
                {
                    Failures.Enqueue(exception);
                    if (message.DequeueCount >= DeployFunctions.Queues.DeliveryWorker.HostMaxDequeueCount)
                    {
                        await poison.CreateIfNotExistsAsync();
                        await poison.SendMessageAsync(message.Body);
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                    }
                }
            }));
        }
    }
}
