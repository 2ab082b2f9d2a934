using DeployFunctions.Functions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// The webhook function behind a real HTTP listener, standing in for the Functions host's HTTP trigger:
/// <c>POST /api/github/webhooks</c> runs <see cref="WebhookIngressFunction"/> from the app's composition.
/// </summary>
internal sealed class IngressServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private IngressServer(WebApplication app, Uri url)
    {
        this.app = app;
        WebhookUrl = url;
    }

    public Uri WebhookUrl { get; }

    public static async Task<IngressServer> StartAsync(Func<IServiceProvider> services)
    {
        var (app, address) = await Loopback.StartAsync(web => web.MapPost("/api/github/webhooks", async (HttpContext context) =>
        {
            var function = services().GetRequiredService<WebhookIngressFunction>();
            var result = await function.Run(context.Request, context.RequestAborted);
            await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new()));
        }));
        return new IngressServer(app, new Uri(address, "api/github/webhooks"));
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
