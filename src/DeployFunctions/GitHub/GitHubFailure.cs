using System.Globalization;
using System.Net;
using Octokit;

namespace DeployFunctions.GitHub;

/// <summary>A GitHub failure that retrying will not fix (bad credentials, missing repository, invalid request).</summary>
public sealed class GitHubPermanentException : Exception
{
    public GitHubPermanentException()
    {
    }

    public GitHubPermanentException(string message)
        : base(message)
    {
    }

    public GitHubPermanentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What a failed GitHub call means for the message that made it.</summary>
/// <param name="Transient">True: try again after <paramref name="RetryAfter"/> (null = back off as usual).</param>
/// <param name="RetryAfter">The wait GitHub asked for, from <c>retry-after</c> or <c>x-ratelimit-reset</c>.</param>
/// <param name="Reason">What happened, for the log; never contains a token.</param>
/// <param name="RateLimited">GitHub said the credentials are over a rate limit: every call with them should wait.</param>
public sealed record GitHubFailure(bool Transient, TimeSpan? RetryAfter, string Reason, bool RateLimited = false)
{
    /// <summary>GitHub's advice when a secondary rate limit comes without <c>retry-after</c>.</summary>
    public static readonly TimeSpan SecondaryLimitWait = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The one place that classifies GitHub failures. Transient: 5xx, 429, primary and secondary rate limits,
    /// timeouts and connection failures. Permanent: 401, 403 without a rate limit, 404, 422 and other 4xx.
    /// Null: not a GitHub failure at all (a bug or a storage fault): let it propagate.
    /// </summary>
    public static GitHubFailure? Classify(Exception exception, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(exception);
        switch (exception)
        {
            case GitHubRateLimitedException held:
                return new(true, held.Wait, held.Message, RateLimited: true);

            case RateLimitExceededException limit:
                var untilReset = limit.Reset - now;
                return new(true, untilReset > TimeSpan.Zero ? untilReset + TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1),
                    $"primary rate limit exceeded ({limit.Remaining}/{limit.Limit} left), resets at {limit.Reset:O}", RateLimited: true);

            case SecondaryRateLimitExceededException secondary:
                return new(true, RetryAfterHeader(secondary.HttpResponse, now) ?? SecondaryLimitWait,
                    "secondary rate limit exceeded", RateLimited: true);

            case AbuseException abuse:
                return new(true, abuse.RetryAfterSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : SecondaryLimitWait,
                    "secondary rate limit exceeded", RateLimited: true);

            case ApiException api when api.StatusCode == HttpStatusCode.TooManyRequests:
                return new(true, RetryAfterHeader(api.HttpResponse, now) ?? RateLimitReset(api.HttpResponse, now) ?? SecondaryLimitWait,
                    "429 too many requests", RateLimited: true);

            case ApiException api when (int)api.StatusCode >= 500:
                return new(true, RetryAfterHeader(api.HttpResponse, now), $"GitHub answered {(int)api.StatusCode}: {api.Message}");

            case ForbiddenException forbidden when RetryAfterHeader(forbidden.HttpResponse, now) is { } wait:
                // A 403 that carries retry-after is a secondary limit Octokit did not recognise by its message.
                return new(true, wait, "403 with retry-after (secondary rate limit)", RateLimited: true);

            case ApiException api:
                return new(false, null, $"GitHub answered {(int)api.StatusCode} {api.StatusCode}: {api.Message}");

            case GitHubPermanentException permanent:
                return new(false, null, permanent.Message);

            case GitHubGraphQLException { RateLimited: true } graphQL:
                return new(true, SecondaryLimitWait, graphQL.Message, RateLimited: true);

            case GitHubGraphQLException graphQL:
                return new(false, null, graphQL.Message);

            case HttpRequestException http:
                return new(true, null, $"could not reach GitHub: {http.Message}");

            case TaskCanceledException or TimeoutException:
                return new(true, null, "the GitHub request timed out");

            default:
                return null;
        }
    }

    private static TimeSpan? RetryAfterHeader(IResponse? response, DateTimeOffset now)
    {
        if (Header(response, "Retry-After") is not { } value)
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at > now
            ? at - now
            : null;
    }

    private static TimeSpan? RateLimitReset(IResponse? response, DateTimeOffset now) =>
        Header(response, "X-RateLimit-Remaining") == "0" &&
        long.TryParse(Header(response, "X-RateLimit-Reset"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var reset) &&
        DateTimeOffset.FromUnixTimeSeconds(reset) > now
            ? DateTimeOffset.FromUnixTimeSeconds(reset) - now + TimeSpan.FromSeconds(1)
            : null;

    private static string? Header(IResponse? response, string name) =>
        response?.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}
