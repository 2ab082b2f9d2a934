using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeployFunctions.Tests.Support;

/// <summary>A real HTTP endpoint on loopback (a deploy hook, a Slack webhook) that records what it receives.</summary>
internal sealed class RecordingServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private RecordingServer(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }
    public ConcurrentQueue<(IHeaderDictionary Headers, string Body)> Received { get; } = new();
    public int Status { get; set; } = 200;
    public string Answer { get; set; } = "{}";
    public TimeSpan Delay { get; set; }

    public static async Task<RecordingServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        RecordingServer? server = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            server!.Received.Enqueue((new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value)), body));
            if (server.Delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(server.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            context.Response.StatusCode = server.Status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(server.Answer);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new RecordingServer(app, new Uri(address.TrimEnd('/') + "/hook"));
        return server;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
