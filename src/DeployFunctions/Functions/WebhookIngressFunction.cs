using DeployFunctions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace DeployFunctions.Functions;

/// <summary>
/// <c>POST /api/github/webhooks</c>. Anonymous at the host: the HMAC signature is the authentication, and GitHub
/// advises against secrets in URLs.
/// </summary>
public sealed class WebhookIngressFunction(WebhookIngress ingress)
{
    public const string Name = "GitHubWebhook";

    [Function(Name)]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "github/webhooks")] HttpRequest request,
        CancellationToken cancellationToken) =>
        await ingress.HandleAsync(request, cancellationToken);
}
