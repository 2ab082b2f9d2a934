using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DeployFunctions.Tests.Support;

/// <summary>A real HTTP endpoint on loopback (a deploy hook, a Slack webhook) that records what it receives.</summary>
internal sealed class RecordingServer : IAsyncDisposable
{
    private WebApplication? app;

    private RecordingServer()
    {
    }

    public Uri Url { get; private set; } = null!;
    public ConcurrentQueue<(IHeaderDictionary Headers, string Body)> Received { get; } = new();
    public int Status { get; set; } = 200;
    public string Answer { get; set; } = "{}";
    public TimeSpan Delay { get; set; }

    /// <summary>Headers sent with every answer (a <c>Location</c> for a redirect).</summary>
    public Dictionary<string, string> AnswerHeaders { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static async Task<RecordingServer> StartAsync()
    {
        var server = new RecordingServer();
        var (app, address) = await Loopback.StartAsync(web => web.Run(server.AnswerAsync));
        server.app = app;
        server.Url = new Uri(address, "hook");
        return server;
    }

    public async ValueTask DisposeAsync() => await app!.DisposeAsync();

    private async Task AnswerAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        Received.Enqueue((new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value)), body));
        if (Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        context.Response.StatusCode = Status;
        foreach (var (name, value) in AnswerHeaders)
        {
            context.Response.Headers[name] = value;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(Answer);
    }
}
