using System.Globalization;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>
/// GitHub's rate limits, per set of credentials (the <c>Authorization</c> header) and limit (<c>core</c>, <c>graphql</c>): every
/// answer carries <c>x-ratelimit-limit</c>, <c>-remaining</c>, <c>-used</c>, <c>-reset</c> and <c>-resource</c>; a request past
/// the window's budget is answered 403 "API rate limit exceeded" with <c>x-ratelimit-remaining: 0</c>; one past the concurrent
/// requests allowed, 403 "secondary rate limit" with <c>retry-after</c>. GitHub asks clients not to call again before the
/// reset: a request that comes anyway is counted (<see cref="StandInState.RequestsBeforeReset"/>). The App's own JWT calls
/// (<c>/app/...</c>) and unauthenticated ones are not limited here.
/// </summary>
public sealed partial class StandInServer
{
    private sealed class Budget
    {
        public DateTimeOffset WindowEnds;
        public int Used;
        public int InFlight;
        public DateTimeOffset RefusedUntil;
    }

    private readonly Dictionary<string, Budget> budgets = new(StringComparer.Ordinal);

    private static string? Credentials(HttpContext context, string path) =>
        path.StartsWith("/app/", StringComparison.Ordinal) || path == "/app" ? null : context.Request.Headers.Authorization.FirstOrDefault();

    private static string Resource(string path) => path is "/graphql" or "/api/graphql" ? "graphql" : "core";

    /// <summary>The 403 body when this request is over a limit; else null, with the rate headers set and the request counted in flight.</summary>
    private JsonObject? Limit(HttpContext context, string path)
    {
        if (Credentials(context, path) is not { } credentials)
        {
            return null;
        }

        var resource = Resource(path);
        var limit = options.RateLimit ?? 5000;
        var now = options.Clock.GetUtcNow();
        Budget budget;
        JsonObject? refusal = null;
        lock (budgets)
        {
            if (!budgets.TryGetValue(credentials + " " + resource, out budget!))
            {
                budgets[credentials + " " + resource] = budget = new Budget();
            }

            if (now >= budget.WindowEnds)
            {
                // GitHub's reset is a whole second (x-ratelimit-reset is in epoch seconds): the window ends on one.
                var ends = now + options.RateLimitWindow;
                (budget.WindowEnds, budget.Used) = (DateTimeOffset.FromUnixTimeSeconds(ends.ToUnixTimeSeconds() + (ends.Millisecond > 0 ? 1 : 0)), 0);
            }

            if (now < budget.RefusedUntil)
            {
                State.CountRequestBeforeReset();
            }

            if (options.RateLimit is not null && budget.Used >= limit)
            {
                budget.RefusedUntil = budget.RefusedUntil > budget.WindowEnds ? budget.RefusedUntil : budget.WindowEnds;
                refusal = new JsonObject
                {
                    ["message"] = "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.",
                    ["documentation_url"] = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                    ["status"] = "403",
                };
            }
            else if (options.MaxConcurrentRequests is { } most && budget.InFlight >= most)
            {
                var until = now + TimeSpan.FromSeconds(options.SecondaryRetryAfterSeconds);
                budget.RefusedUntil = budget.RefusedUntil > until ? budget.RefusedUntil : until;
                context.Response.Headers.RetryAfter = options.SecondaryRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                refusal = new JsonObject
                {
                    ["message"] = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
                    ["documentation_url"] = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                    ["status"] = "403",
                };
            }

            if (refusal is null)
            {
                budget.InFlight++;
                budget.Used++;
            }
        }

        // Written as the answer starts, when its status is known: a 304 does not count against the budget (GitHub's rule).
        context.Response.OnStarting(() =>
        {
            lock (budgets)
            {
                if (refusal is null && context.Response.StatusCode == 304)
                {
                    budget.Used = Math.Max(0, budget.Used - 1);
                }

                // A fault a test set may carry its own rate headers: those win.
                var headers = context.Response.Headers;
                headers.TryAdd("X-RateLimit-Limit", limit.ToString(CultureInfo.InvariantCulture));
                headers.TryAdd("X-RateLimit-Remaining", Math.Max(0, limit - budget.Used).ToString(CultureInfo.InvariantCulture));
                State.SawRemaining(Math.Max(0, limit - budget.Used));
                headers.TryAdd("X-RateLimit-Used", budget.Used.ToString(CultureInfo.InvariantCulture));
                headers.TryAdd("X-RateLimit-Reset", budget.WindowEnds.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
                headers.TryAdd("X-RateLimit-Resource", resource);
            }

            return Task.CompletedTask;
        });

        if (refusal is not null)
        {
            State.CountRateLimitRefusal();
        }

        return refusal;
    }

    /// <summary>The request is answered: no longer in flight.</summary>
    private void Leave(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (Credentials(context, path) is not { } credentials)
        {
            return;
        }

        lock (budgets)
        {
            if (budgets.TryGetValue(credentials + " " + Resource(path), out var budget))
            {
                budget.InFlight--;
            }
        }
    }
}
