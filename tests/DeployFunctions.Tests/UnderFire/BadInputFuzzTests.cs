using System.Globalization;
using System.Text;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;
using Xunit.Abstractions;

namespace DeployFunctions.Tests.UnderFire;

/// <summary>
/// A seeded fuzzer over real deliveries: 12,000 mutated requests per run through the real ingress. Set FUZZ_SEED to
/// replay a run; the seed is printed. Every answer must be a 2xx/4xx with a reason when refused, nothing refused may
/// be queued, and every valid delivery is queued exactly once.
/// </summary>
public sealed class BadInputFuzzTests(ITestOutputHelper output)
{
    private const int Cases = 12_000;
    private static readonly string[] Events = ["pull_request", "deployment", "deployment_status", "ping", "push"];

    [Fact]
    public async Task Mutated_deliveries_never_crash_never_5xx_and_only_valid_ones_are_queued_once_each()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), CultureInfo.InvariantCulture, out var s)
            ? s : Environment.TickCount;
        output.WriteLine($"FUZZ_SEED={seed}");
        var random = new Random(seed);
        var queued = new List<string>();
        var queues = Substitute.For<IDeliveryQueues>();
        queues.EnqueueAsync(default, default!, default, default).ReturnsForAnyArgs(call =>
        {
            lock (queued)
            {
                queued.Add(call.Arg<WebhookEnvelope>().DeliveryId);
            }

            return Task.FromResult("queue");
        });
        var options = Deliveries.Options();
        options.Value.MaxBodyBytes = 200_000;
        var ingress = new WebhookIngress(
            new DeliveryIntake(new WebhookSignature(options), TimeProvider.System), queues, options, NullLogger<WebhookIngress>.Instance);
        var seeds = Seeds();
        var expectedQueued = new List<string>();
        var statuses = new Dictionary<int, int>();

        for (var i = 0; i < Cases; i++)
        {
            var (eventName, payload) = seeds[random.Next(seeds.Count)];
            var id = $"fuzz-{i}";
            var (request, valid, description) = Mutate(random, eventName, payload, id);

            IngressAnswer answer;
            try
            {
                answer = await ingress.HandleAsync(request, CancellationToken.None);
            }
            catch (Exception exception)
            {
                Assert.Fail($"FUZZ_SEED={seed} case {i} ({description}) threw {exception}");
                return;
            }

            statuses[answer.StatusCode] = statuses.GetValueOrDefault(answer.StatusCode) + 1;
            Assert.True(answer.StatusCode < 500, $"FUZZ_SEED={seed} case {i} ({description}): {answer.StatusCode}");
            if (answer.StatusCode >= 400)
            {
                Assert.False(string.IsNullOrWhiteSpace(answer.Reason), $"FUZZ_SEED={seed} case {i} ({description}): no reason");
            }

            if (valid && answer.StatusCode == 202)
            {
                expectedQueued.Add(id);
            }

            Assert.True(!valid || answer.StatusCode is 200 or 202,
                $"FUZZ_SEED={seed} case {i} ({description}): a valid delivery got {answer.StatusCode} {answer.Reason}");
            Assert.True(valid || answer.StatusCode >= 400,
                $"FUZZ_SEED={seed} case {i} ({description}): an invalid delivery got {answer.StatusCode}");
        }

        Assert.Equal(expectedQueued, queued);
        Assert.True(expectedQueued.Count > 500, $"only {expectedQueued.Count} valid deliveries were generated");
        output.WriteLine(string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}")));
    }

    private static List<(string Event, byte[] Payload)> Seeds() =>
    [
        ("pull_request", WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest())),
        ("pull_request", WebhookExamples.Bytes(WebhookExamples.Get("pull_request", "closed"))),
        ("pull_request", WebhookExamples.Bytes(WebhookExamples.Get("pull_request", "opened"))),
        ("deployment", WebhookExamples.Bytes(WebhookExamples.Get("deployment", "created"))),
        ("deployment_status", WebhookExamples.Bytes(WebhookExamples.Get("deployment_status", "created"))),
        ("ping", WebhookExamples.Bytes(WebhookExamples.Get("ping"))),
        ("push", WebhookExamples.Bytes(WebhookExamples.Get("push"))),
    ];

    /// <summary>One request: either untouched (valid), or broken in one way that must be refused.</summary>
    private static (HttpRequest Request, bool Valid, string Description) Mutate(Random random, string eventName, byte[] payload, string id)
    {
        var body = payload;
        var contentType = "application/json";
        var form = random.Next(4) == 0;
        if (form)
        {
            body = Deliveries.Form(payload);
            contentType = "application/x-www-form-urlencoded";
        }

        string? signature = null; // null: sign the final body correctly
        var headers = new Dictionary<string, string?> { ["X-GitHub-Event"] = eventName, ["X-GitHub-Delivery"] = id };
        var mutation = random.Next(26);
        var valid = false;
        string description;
        switch (mutation)
        {
            case 0: headers.Remove("X-GitHub-Event"); description = "no event header"; break;
            case 1: headers.Remove("X-GitHub-Delivery"); description = "no delivery header"; break;
            case 2: headers["X-GitHub-Event"] = ""; description = "empty event header"; break;
            case 3: headers["X-GitHub-Delivery"] = " "; description = "blank delivery header"; break;
            case 4: signature = ""; description = "no signature"; break;
            case 5: signature = FlipHex(random, Deliveries.Sign(body)); description = "flipped signature"; break;
            case 6: signature = Deliveries.Sign(body)[..random.Next(7, 70)]; description = "truncated signature"; break;
            case 7: signature = "sha1=" + Deliveries.Sign(body)[7..47]; description = "sha1 signature"; break;
            case 8: signature = Deliveries.Sign(body, "some-other-secret"); description = "other secret"; break;
            case 9: signature = "sha512=" + new string('a', 128); description = "other algorithm"; break;
            case 10: contentType = random.Next(2) == 0 ? "text/plain" : "application/xml"; description = "wrong content type"; break;
            case 11: contentType = null!; description = "no content type"; break;
            case 12: body = body[..random.Next(body.Length)]; description = "truncated body (signed)"; break;
            case 13: body = Garble(random, body); description = "garbled body (signed)"; break;
            case 14: body = [.. body, 0xC3, 0x28]; description = "invalid UTF-8 (signed)"; break;
            case 15: body = Encoding.UTF8.GetBytes(new string('[', random.Next(200, 5000))); description = "deep nesting (signed)"; break;
            case 16: body = []; description = "empty body (signed)"; break;
            case 17: body = random.Next(2) == 0 ? "payload="u8.ToArray() : "payloa=x"u8.ToArray(); contentType = "application/x-www-form-urlencoded"; description = "payload= edge case"; break;
            case 18: body = new byte[200_001]; description = "oversize body"; break;
            case 19: headers["X-GitHub-Event"] = new string('e', 4000); valid = true; description = "huge event header (ignored)"; break;
            default: valid = true; description = form ? "valid form" : "valid json"; break;
        }

        var request = Deliveries.Request(headers.GetValueOrDefault("X-GitHub-Event"), body,
            deliveryId: headers.TryGetValue("X-GitHub-Delivery", out var delivery) ? delivery : Deliveries.NoHeader,
            contentType: contentType, signature: signature is null ? Deliveries.Sign(body) : signature, sign: signature is not "");
        if (signature is "")
        {
            request.Headers.Remove("X-Hub-Signature-256");
        }

        if (mutation == 18 && random.Next(2) == 0)
        {
            request.ContentLength = null; // chunked: the limit is enforced while reading
        }

        return (request, valid, description);
    }

    private static string FlipHex(Random random, string signature)
    {
        var chars = signature.ToCharArray();
        var at = random.Next(7, chars.Length);
        chars[at] = chars[at] == 'a' ? 'b' : 'a';
        return new string(chars);
    }

    private static byte[] Garble(Random random, byte[] body)
    {
        var copy = (byte[])body.Clone();
        for (var i = 0; i < 1 + random.Next(8); i++)
        {
            copy[random.Next(copy.Length)] = (byte)"{}[]\",:\\"[random.Next(8)];
        }

        // Garbling can, rarely, leave valid JSON; make sure it cannot: cut the closing brace.
        return copy[..^1];
    }
}
