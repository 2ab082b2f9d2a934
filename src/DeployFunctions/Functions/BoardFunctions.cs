using System.Globalization;
using DeployFunctions.Board;
using DeployFunctions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace DeployFunctions.Functions;

/// <summary>
/// The deploy board: <c>GET /api/board</c> (the page), <c>GET /api/board/data</c> (what it shows) and
/// <c>GET /api/metrics/dora</c> (DORA's four keys), each behind the function key; in Azure also behind Microsoft Entra ID
/// sign-in when the Bicep names an app registration. <c>GET /api/board/assets/{name}</c> serves the page's own script,
/// styles and chart library (the same bytes for everyone, no data) without a key.
/// </summary>
public sealed class BoardFunctions(BoardReader reader, IDeployBoard board, BoardAssets assets, TimeProvider clock)
{
    public const string PageName = "Board";
    public const string DataName = "BoardData";
    public const string AssetName = "BoardAsset";
    public const string DoraName = "DoraMetrics";
    public const int MaxLimit = 500;

    /// <summary>The longest DORA window, in days.</summary>
    public const int MaxWindowDays = 366;

    /// <summary>
    /// Scripts, styles, images and requests from the app's own origin only; no inline script or style, no frames, no
    /// forms elsewhere, and no referrer (the page's address may carry the function key).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    [Function(PageName)]
    public IActionResult Page([HttpTrigger(AuthorizationLevel.Function, "get", Route = "board")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Secure(request.HttpContext.Response, cache: false);
        return new BytesAnswer(200, assets.Page, "text/html; charset=utf-8");
    }

    /// <summary>A file by the last segment of its path (read from the request itself, not from the host's route binding).</summary>
    [Function(AssetName)]
    public IActionResult Asset([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "board/assets/{name}")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = Uri.UnescapeDataString(request.Path.Value?.Split('/')[^1] ?? "");
        if (assets.Find(name) is not { } asset)
        {
            return new SnakeCaseAnswer(404, new { status = "not_found", reason = "no such board asset" });
        }

        Secure(request.HttpContext.Response, cache: true);
        return new BytesAnswer(200, asset.Bytes, asset.ContentType);
    }

    [Function(DataName)]
    public async Task<IActionResult> Data(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "board/data")] HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query;
        if (Problem(query, out var since, out var until, out var limit) is { } problem)
        {
            return new SnakeCaseAnswer(400, new { status = "rejected", reason = problem });
        }

        Secure(request.HttpContext.Response, cache: false);
        try
        {
            return new SnakeCaseAnswer(200, await reader.ReadAsync(
                Text(query, "repository"), Text(query, "environment"), since, until, limit, Text(query, "continuation"), cancellationToken));
        }
        catch (Exception exception) when (BadContinuation(exception))
        {
            return new SnakeCaseAnswer(400, new { status = "rejected", reason = ContinuationProblem });
        }
    }

    [Function(DoraName)]
    public async Task<IActionResult> Dora(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "metrics/dora")] HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = request.Query;
        if (Problem(query, out var since, out var until, out _) is { } problem)
        {
            return new SnakeCaseAnswer(400, new { status = "rejected", reason = problem });
        }

        var to = DateOnly.FromDateTime((until ?? clock.GetUtcNow()).UtcDateTime);
        var from = since is { } s ? DateOnly.FromDateTime(s.UtcDateTime) : to.AddDays(-29);
        if (from > to || to.DayNumber - from.DayNumber + 1 > MaxWindowDays)
        {
            return new SnakeCaseAnswer(400, new { status = "rejected", reason = $"since must be before until, at most {MaxWindowDays} days apart" });
        }

        var repository = Text(query, "repository");
        var environment = Text(query, "environment") ?? "production";
        var days = await board.DaysAsync(repository, environment, from, to, cancellationToken);
        Secure(request.HttpContext.Response, cache: false);
        return new SnakeCaseAnswer(200, Board.Dora.Compute(repository, environment, from, to, days));
    }

    /// <summary>
    /// Reads the filters every board endpoint takes: <c>since</c> and <c>until</c> (ISO 8601 dates or times), <c>limit</c>
    /// (1-500, default 200); <c>repo</c> is another name for <c>repository</c>.
    /// </summary>
    internal static string? Problem(IQueryCollection query, out DateTimeOffset? since, out DateTimeOffset? until, out int limit)
    {
        ArgumentNullException.ThrowIfNull(query);
        since = until = null;
        limit = 200;
        if (query.TryGetValue("limit", out var text) &&
            (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return $"limit must be a number from 1 to {MaxLimit}";
        }

        if (Time(query, "since", out since) is { } sinceProblem)
        {
            return sinceProblem;
        }

        if (Time(query, "until", out until) is { } untilProblem)
        {
            return untilProblem;
        }

        return since > until ? "since must not be after until" : null;
    }

    internal const string ContinuationProblem = "continuation is not a token this endpoint gave";

    /// <summary>What a made-up continuation token fails with: the SDK's parsing, or the table service's 400.</summary>
    internal static bool BadContinuation(Exception exception) =>
        exception is ArgumentException or FormatException or IndexOutOfRangeException or Azure.RequestFailedException { Status: 400 };

    private static string? Time(IQueryCollection query, string name, out DateTimeOffset? value)
    {
        value = null;
        if (Text(query, name) is not { } text)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            if (parsed.Year is < 2000 or > 2999)
            {
                return $"{name} must be a date from 2000 to 2999";
            }

            value = parsed;
            return null;
        }

        return $"{name} must be an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T12:00:00Z";
    }

    private static string? Text(IQueryCollection query, string name)
    {
        var value = query[name].FirstOrDefault() ?? (name == "repository" ? query["repo"].FirstOrDefault() : null);
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    private static void Secure(HttpResponse response, bool cache)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.CacheControl = cache ? "public, max-age=31536000, immutable" : "no-store";
    }
}
