using System.Net;
using DeployFunctions.GitHub;
using NSubstitute;
using Octokit;

namespace DeployFunctions.Tests.GitHub;

public sealed class GitHubFailureTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);

    private static IResponse Response(HttpStatusCode status, string body, params (string Name, string Value)[] headers)
    {
        var response = Substitute.For<IResponse>();
        response.StatusCode.Returns(status);
        response.Body.Returns(body);
        response.ContentType.Returns("application/json");
        var map = headers.ToDictionary(h => h.Name, h => h.Value);
        response.Headers.Returns(map);
        response.ApiInfo.Returns(new ApiInfo(new Dictionary<string, Uri>(), [], [], "", new RateLimit(map)));
        return response;
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public void Server_errors_are_transient_with_the_default_backoff(HttpStatusCode status)
    {
        var failure = GitHubFailure.Classify(new ApiException(Response(status, "{}")), Now)!;

        Assert.True(failure.Transient);
        Assert.Null(failure.RetryAfter);
    }

    [Fact]
    public void Too_many_requests_waits_for_retry_after()
    {
        var failure = GitHubFailure.Classify(new ApiException(Response(HttpStatusCode.TooManyRequests, "{}", ("Retry-After", "42"))), Now)!;

        Assert.True(failure.Transient);
        Assert.Equal(TimeSpan.FromSeconds(42), failure.RetryAfter);
    }

    [Fact]
    public void Primary_rate_limit_waits_until_the_reset()
    {
        var reset = Now.AddMinutes(7).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var response = Response(HttpStatusCode.Forbidden, """{"message":"API rate limit exceeded for installation ID 1."}""",
            ("X-RateLimit-Limit", "5000"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", reset));

        var failure = GitHubFailure.Classify(new RateLimitExceededException(response), Now)!;

        Assert.True(failure.Transient);
        Assert.Equal(TimeSpan.FromMinutes(7) + TimeSpan.FromSeconds(1), failure.RetryAfter);
    }

    [Fact]
    public void Secondary_rate_limit_without_retry_after_waits_a_minute()
    {
        var response = Response(HttpStatusCode.Forbidden, """{"message":"You have exceeded a secondary rate limit."}""");

        var failure = GitHubFailure.Classify(new SecondaryRateLimitExceededException(response), Now)!;

        Assert.True(failure.Transient);
        Assert.Equal(TimeSpan.FromSeconds(60), failure.RetryAfter);
    }

    [Fact]
    public void Secondary_rate_limit_with_retry_after_waits_that_long()
    {
        var response = Response(HttpStatusCode.Forbidden, """{"message":"You have exceeded a secondary rate limit."}""", ("Retry-After", "5"));

        Assert.Equal(TimeSpan.FromSeconds(5), GitHubFailure.Classify(new SecondaryRateLimitExceededException(response), Now)!.RetryAfter);
    }

    [Fact]
    public void Permanent_failures_are_not_retried()
    {
        Exception[] permanent =
        [
            new AuthorizationException(Response(HttpStatusCode.Unauthorized, """{"message":"Bad credentials"}""")),
            new ForbiddenException(Response(HttpStatusCode.Forbidden, """{"message":"Resource not accessible by integration"}""")),
            new NotFoundException(Response(HttpStatusCode.NotFound, """{"message":"Not Found"}""")),
            new ApiValidationException(Response(HttpStatusCode.UnprocessableEntity, """{"message":"Validation Failed"}""")),
            new GitHubPermanentException("no installation id"),
        ];

        Assert.All(permanent, exception => Assert.False(GitHubFailure.Classify(exception, Now)!.Transient));
    }

    [Fact]
    public void Timeouts_and_connection_failures_are_transient()
    {
        Assert.True(GitHubFailure.Classify(new TaskCanceledException("timeout"), Now)!.Transient);
        Assert.True(GitHubFailure.Classify(new HttpRequestException("connection refused"), Now)!.Transient);
    }

    [Fact]
    public void Other_exceptions_are_not_GitHub_failures() =>
        Assert.Null(GitHubFailure.Classify(new InvalidOperationException("bug"), Now));

    [Fact]
    public void The_reason_never_carries_the_token()
    {
        var failure = GitHubFailure.Classify(new AuthorizationException(Response(HttpStatusCode.Unauthorized, """{"message":"Bad credentials"}""")), Now)!;

        Assert.DoesNotContain("test-token", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("401", failure.Reason, StringComparison.Ordinal);
    }
}
