using System.Globalization;
using DeployFunctions.History;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace DeployFunctions.Functions;

/// <summary>
/// <c>GET /api/deployments/history?repository=owner/name&amp;environment=production&amp;limit=50&amp;since=&amp;until=</c>,
/// function key required: deployment statuses, newest first. When more are left, the answer's <c>X-Continuation</c>
/// header holds the token to pass back as <c>continuation</c> for the next page.
/// </summary>
public sealed class DeploymentHistoryFunction(IDeploymentHistory history)
{
    public const string Name = "DeploymentHistory";
    public const int MaxLimit = 500;

    /// <summary>The header that carries the next page's token.</summary>
    public const string ContinuationHeader = "X-Continuation";

    [Function(Name)]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deployments/history")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query;
        var limit = 50;
        if (query.TryGetValue("limit", out var text) &&
            (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return new SnakeCaseAnswer(400, new { status = "rejected", reason = $"limit must be a number from 1 to {MaxLimit}" });
        }

        if (BoardFunctions.Problem(query, out var since, out var until, out _) is { } problem)
        {
            return new SnakeCaseAnswer(400, new { status = "rejected", reason = problem });
        }

        HistoryPage page;
        try
        {
            page = await history.PageAsync(new HistoryQuery(
                query["repository"].FirstOrDefault(), query["environment"].FirstOrDefault(), since, until, limit,
                query["continuation"].FirstOrDefault() is { Length: > 0 } continuation ? continuation : null), cancellationToken);
        }
        catch (Exception exception) when (BoardFunctions.BadContinuation(exception))
        {
            return new SnakeCaseAnswer(400, new { status = "rejected", reason = BoardFunctions.ContinuationProblem });
        }
        if (page.Continuation is { } next)
        {
            request.HttpContext.Response.Headers[ContinuationHeader] = next;
        }

        return new SnakeCaseAnswer(200, page.Statuses);
    }
}
