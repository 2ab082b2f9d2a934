using DeployFunctions.Functions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// The board's functions from the app's composition behind a real HTTP listener, at the routes the host gives them
/// (<c>/api/board</c>, <c>/api/board/assets/{name}</c>, <c>/api/board/data</c>, <c>/api/metrics/dora</c>). The host's
/// function-key check is played here as the host does it (<c>code</c> query or <c>x-functions-key</c> header, else 401);
/// which functions need a key is checked against the build output in <c>HostContractTests</c>.
/// </summary>
internal sealed class BoardServer : IAsyncDisposable
{
    public const string Key = "test-function-key-0123456789";

    private readonly WebApplication app;

    private BoardServer(WebApplication app, Uri address) => (this.app, Address) = (app, address);

    /// <summary>The server's root; the page is at <c>api/board?code=</c><see cref="Key"/>.</summary>
    public Uri Address { get; }

    public Uri PageUrl => new(Address, $"api/board?code={Key}");

    public static async Task<BoardServer> StartAsync(IServiceProvider services)
    {
        var (app, address) = await Loopback.StartAsync(web =>
        {
            web.MapGet("/api/board", async (HttpContext context) => await RunAsync(context, services, "page"));
            web.MapGet("/api/board/assets/{name}", async (HttpContext context) => await RunAsync(context, services, "asset"));
            web.MapGet("/api/board/data", async (HttpContext context) => await RunAsync(context, services, "data"));
            web.MapGet("/api/metrics/dora", async (HttpContext context) => await RunAsync(context, services, "dora"));
        });
        return new BoardServer(app, address);
    }

    private static async Task RunAsync(HttpContext context, IServiceProvider services, string function)
    {
        if (function != "asset" && context.Request.Query["code"] != Key && context.Request.Headers["x-functions-key"] != Key)
        {
            context.Response.StatusCode = 401;
            return;
        }

        var board = services.GetRequiredService<BoardFunctions>();
        var result = function switch
        {
            "page" => board.Page(context.Request),
            "asset" => board.Asset(context.Request),
            "data" => await board.Data(context.Request, context.RequestAborted),
            _ => await board.Dora(context.Request, context.RequestAborted),
        };
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new()));
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
