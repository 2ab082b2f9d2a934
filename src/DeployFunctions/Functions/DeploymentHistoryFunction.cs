using System.Globalization;
using DeployFunctions.History;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace DeployFunctions.Functions;

/// <summary>
/// <c>GET /api/deployments/history?repository=owner/name&amp;environment=production&amp;limit=50</c>, function key
/// required: recent deployment statuses, newest first.
/// </summary>
public sealed class DeploymentHistoryFunction(IDeploymentHistory history)
{
    public const string Name = "DeploymentHistory";
    public const int MaxLimit = 500;

    [Function(Name)]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deployments/history")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var limit = 50;
        if (request.Query.TryGetValue("limit", out var text) &&
            (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return new SnakeCaseAnswer(400, new { status = "rejected", reason = $"limit must be a number from 1 to {MaxLimit}" });
        }

        var records = await history.RecentAsync(
            request.Query["repository"].FirstOrDefault(), request.Query["environment"].FirstOrDefault(), limit, cancellationToken);
        return new SnakeCaseAnswer(200, records);
    }
}
