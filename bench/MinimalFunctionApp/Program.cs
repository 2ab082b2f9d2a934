using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
await builder.Build().RunAsync();

namespace MinimalFunctionApp
{
    /// <summary>Answers every delivery with 200: no signature, no storage, nothing of the real app.</summary>
    public sealed class Webhook
    {
        [Function("GitHubWebhook")]
        public static IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "github/webhooks")] HttpRequest request) =>
            new OkObjectResult(new { status = "pong" });
    }
}
