using System.Text;
using System.Text.Json.Nodes;
using Azure;
using DeployFunctions.Storage;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace DeployFunctions.Tests.Webhooks;

/// <summary>Every ingress rule, on real GitHub payloads, with the queue substituted.</summary>
public sealed class WebhookIngressTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 9, 30, 0, TimeSpan.Zero);
    private readonly IDeliveryQueues queues = Substitute.For<IDeliveryQueues>();

    public WebhookIngressTests()
    {
        queues.EnqueueAsync(default, default!, default, default)
            .ReturnsForAnyArgs(call => Task.FromResult("queue-of-" + call.Arg<DeliveryQueueKind>()));
    }

    private WebhookIngress Ingress(WebhookOptions? options = null)
    {
        var webhookOptions = Microsoft.Extensions.Options.Options.Create(options ?? Deliveries.Options().Value);
        var intake = new DeliveryIntake(new WebhookSignature(webhookOptions), new FakeTimeProvider(Now));
        return new WebhookIngress(intake, queues, webhookOptions, NullLogger<WebhookIngress>.Instance);
    }

    private async Task<IngressAnswer> SendAsync(Microsoft.AspNetCore.Http.HttpRequest request, WebhookOptions? options = null) =>
        await Ingress(options).HandleAsync(request, CancellationToken.None);

    private static string Json(IngressAnswer answer) => Encoding.UTF8.GetString(answer.ToJson());

    [Fact]
    public async Task Merged_pull_request_is_queued_on_the_pull_request_queue_with_its_envelope()
    {
        var payload = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());
        var request = Deliveries.Request("pull_request", payload, deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958");

        var answer = await SendAsync(request);

        Assert.Equal(202, answer.StatusCode);
        Assert.Equal("""{"status":"queued","queue":"queue-of-PullRequests","delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958"}""", Json(answer));
        await queues.Received(1).EnqueueAsync(
            DeliveryQueueKind.PullRequests,
            Arg.Is<WebhookEnvelope>(e =>
                e.DeliveryId == "72d3162e-cc78-11e3-81ab-4c9367dc0958" && e.Event == "pull_request" && e.Action == "closed" &&
                e.ReceivedAt == Now && e.HookId == 292430182 && e.Repository == "Codertocat/Hello-World" && e.PayloadBlob == null),
            Arg.Is<ReadOnlyMemory<byte>>(p => p.ToArray().SequenceEqual(payload)),
            Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData("deployment", DeliveryQueueKind.Deployments)]
    [InlineData("deployment_status", DeliveryQueueKind.DeploymentStatuses)]
    public async Task Created_deployments_and_statuses_go_to_their_own_queue(string eventName, DeliveryQueueKind queue)
    {
        var payload = WebhookExamples.Bytes(WebhookExamples.Get(eventName, "created"));

        var answer = await SendAsync(Deliveries.Request(eventName, payload));

        Assert.Equal(202, answer.StatusCode);
        await queues.Received(1).EnqueueAsync(queue, Arg.Any<WebhookEnvelope>(), Arg.Any<ReadOnlyMemory<byte>>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Form_encoded_delivery_like_the_guide_is_queued_with_the_decoded_payload()
    {
        var json = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());
        var form = Deliveries.Form(json);

        var answer = await SendAsync(Deliveries.Request("pull_request", form, contentType: "application/x-www-form-urlencoded"));

        Assert.Equal(202, answer.StatusCode);
        await queues.Received(1).EnqueueAsync(
            DeliveryQueueKind.PullRequests, Arg.Any<WebhookEnvelope>(),
            Arg.Is<ReadOnlyMemory<byte>>(p => p.ToArray().SequenceEqual(json)), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Form_signature_is_over_the_encoded_body_not_the_json()
    {
        var json = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());
        var request = Deliveries.Request("pull_request", Deliveries.Form(json),
            contentType: "application/x-www-form-urlencoded", signature: Deliveries.Sign(json));

        var answer = await SendAsync(request);

        Assert.Equal(401, answer.StatusCode);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Ping_answers_200_with_the_hook_id_and_queues_nothing()
    {
        var ping = WebhookExamples.Get("ping");

        var answer = await SendAsync(Deliveries.Request("ping", WebhookExamples.Bytes(ping)));

        Assert.Equal(200, answer.StatusCode);
        Assert.Equal("pong", answer.Status);
        Assert.Equal((long)ping["hook_id"]!, answer.Hook);
        Assert.Equal(RepositoryRoot.ProjectVersion(), answer.Version);
        Assert.Contains($"\"version\":\"{RepositoryRoot.ProjectVersion()}\"", System.Text.Encoding.UTF8.GetString(answer.ToJson()), StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Theory]
    [InlineData("opened", "pull_request action 'opened' is not handled")]
    [InlineData("synchronize", "pull_request action 'synchronize' is not handled")]
    public async Task Pull_request_actions_other_than_closed_are_ignored_with_the_reason(string action, string reason)
    {
        var payload = WebhookExamples.Bytes(WebhookExamples.Get("pull_request", action));

        var answer = await SendAsync(Deliveries.Request("pull_request", payload));

        Assert.Equal(200, answer.StatusCode);
        Assert.Equal("ignored", answer.Status);
        Assert.StartsWith(reason, answer.Reason, StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Pull_request_closed_without_merging_is_ignored_with_its_number()
    {
        var closed = WebhookExamples.Get("pull_request", "closed"); // GitHub's real example: merged=false
        Assert.False((bool)closed["pull_request"]!["merged"]!);

        var answer = await SendAsync(Deliveries.Request("pull_request", WebhookExamples.Bytes(closed)));

        Assert.Equal(200, answer.StatusCode);
        Assert.Equal($"pull request #{closed["pull_request"]!["number"]} was closed without merging", answer.Reason);
        AssertNothingQueued();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Pull_request_closed_with_merged_missing_or_null_is_ignored_not_queued(bool missing)
    {
        var closed = WebhookExamples.DerivedMergedPullRequest(); // DERIVED, then the merged flag taken away again
        if (missing)
        {
            closed["pull_request"]!.AsObject().Remove("merged");
        }
        else
        {
            closed["pull_request"]!["merged"] = null;
        }

        var answer = await SendAsync(Deliveries.Request("pull_request", WebhookExamples.Bytes(closed)));

        Assert.Equal(200, answer.StatusCode);
        Assert.Equal("ignored", answer.Status);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Events_we_do_not_act_on_are_ignored_with_the_reason()
    {
        var push = WebhookExamples.Bytes(WebhookExamples.Get("push"));

        var answer = await SendAsync(Deliveries.Request("push", push));

        Assert.Equal(200, answer.StatusCode);
        Assert.StartsWith("event 'push' is not handled", answer.Reason, StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Deployment_actions_other_than_created_are_ignored()
    {
        var payload = WebhookExamples.Get("deployment", "created");
        payload["action"] = "deleted";

        var answer = await SendAsync(Deliveries.Request("deployment", WebhookExamples.Bytes(payload)));

        Assert.Equal(200, answer.StatusCode);
        Assert.StartsWith("deployment action 'deleted' is not handled", answer.Reason, StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Missing_event_header_is_400()
    {
        var answer = await SendAsync(Deliveries.Request(null, MergedBytes()));

        Assert.Equal(400, answer.StatusCode);
        Assert.Contains("X-GitHub-Event", answer.Reason, StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Missing_delivery_header_is_400()
    {
        var answer = await SendAsync(Deliveries.Request("pull_request", MergedBytes(), deliveryId: Deliveries.NoHeader));

        Assert.Equal(400, answer.StatusCode);
        Assert.Contains("X-GitHub-Delivery", answer.Reason, StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Missing_signature_is_401()
    {
        var answer = await SendAsync(Deliveries.Request("pull_request", MergedBytes(), sign: false));

        Assert.Equal(401, answer.StatusCode);
        Assert.Contains("X-Hub-Signature-256", answer.Reason, StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Signature_under_another_secret_is_401_and_the_answer_reveals_no_secret()
    {
        var body = MergedBytes();
        var signature = Deliveries.Sign(body, "not-the-secret");

        var answer = await SendAsync(Deliveries.Request("pull_request", body, signature: signature));

        Assert.Equal(401, answer.StatusCode);
        Assert.DoesNotContain(Deliveries.Secret, Json(answer), StringComparison.Ordinal);
        Assert.DoesNotContain(signature[7..], Json(answer), StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Rotation_accepts_both_configured_secrets_and_rejects_others()
    {
        var options = Deliveries.Options("old-secret", "new-secret").Value;
        var body = MergedBytes();

        var byOld = await SendAsync(Deliveries.Request("pull_request", body, signature: Deliveries.Sign(body, "old-secret")), options);
        var byNew = await SendAsync(Deliveries.Request("pull_request", body, signature: Deliveries.Sign(body, "new-secret")), options);
        var byOther = await SendAsync(Deliveries.Request("pull_request", body, signature: Deliveries.Sign(body, "other")), options);

        Assert.Equal([202, 202, 401], [byOld.StatusCode, byNew.StatusCode, byOther.StatusCode]);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData(null)]
    public async Task Other_content_types_are_415(string? contentType)
    {
        var answer = await SendAsync(Deliveries.Request("pull_request", MergedBytes(), contentType: contentType));

        Assert.Equal(415, answer.StatusCode);
        Assert.Contains("application/json", answer.Reason, StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Json_content_type_with_charset_is_accepted()
    {
        var answer = await SendAsync(Deliveries.Request("pull_request", MergedBytes(), contentType: "application/json; charset=utf-8"));

        Assert.Equal(202, answer.StatusCode);
    }

    [Fact]
    public async Task Form_without_payload_field_is_400()
    {
        var body = "zen=hello&other=1"u8.ToArray();

        var answer = await SendAsync(Deliveries.Request("pull_request", body, contentType: "application/x-www-form-urlencoded"));

        Assert.Equal(400, answer.StatusCode);
        Assert.Equal("the form body has no 'payload' field", answer.Reason);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Form_payload_field_after_others_is_found()
    {
        var json = MergedBytes();
        byte[] body = [.. "a=1&"u8, .. Deliveries.Form(json)];

        var answer = await SendAsync(Deliveries.Request("pull_request", body, contentType: "application/x-www-form-urlencoded"));

        Assert.Equal(202, answer.StatusCode);
    }

    [Theory]
    [InlineData("{\"action\":")]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("")]
    public async Task Signed_body_that_is_not_a_JSON_object_is_400(string body)
    {
        var answer = await SendAsync(Deliveries.Request("pull_request", Encoding.UTF8.GetBytes(body)));

        Assert.Equal(400, answer.StatusCode);
        Assert.StartsWith("the payload is", answer.Reason, StringComparison.Ordinal);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Body_over_the_limit_by_Content_Length_is_413_without_reading_it()
    {
        var body = new UnreadableStream(1_000);
        var request = Deliveries.Request("pull_request", [], sendContentLength: false);
        request.Body = body;
        request.ContentLength = 1_000;

        var answer = await SendAsync(request, new WebhookOptions { MaxBodyBytes = 999, Secrets = { Deliveries.Secret } });

        Assert.Equal(413, answer.StatusCode);
        Assert.False(body.WasRead);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_is_413()
    {
        var payload = MergedBytes();
        var request = Deliveries.Request("pull_request", payload, sendContentLength: false);

        var answer = await SendAsync(request, new WebhookOptions { MaxBodyBytes = payload.Length - 1, Secrets = { Deliveries.Secret } });

        Assert.Equal(413, answer.StatusCode);
        AssertNothingQueued();
    }

    [Fact]
    public async Task Chunked_body_within_the_limit_is_accepted()
    {
        var answer = await SendAsync(Deliveries.Request("pull_request", MergedBytes(), sendContentLength: false));

        Assert.Equal(202, answer.StatusCode);
    }

    [Fact]
    public async Task Storage_failure_is_503_so_GitHub_shows_it_failed()
    {
        queues.EnqueueAsync(default, default!, default, default)
            .ThrowsAsyncForAnyArgs(new RequestFailedException(500, "The server is busy.", "ServerBusy", null));

        var answer = await SendAsync(Deliveries.Request("pull_request", MergedBytes()));

        Assert.Equal(503, answer.StatusCode);
        Assert.Equal("unavailable", answer.Status);
        Assert.Contains("Redeliver", answer.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redelivery_with_the_same_delivery_id_is_accepted_again()
    {
        var body = MergedBytes();

        var first = await SendAsync(Deliveries.Request("pull_request", body, deliveryId: "same"));
        var again = await SendAsync(Deliveries.Request("pull_request", body, deliveryId: "same"));

        Assert.Equal([202, 202], [first.StatusCode, again.StatusCode]);
        await queues.Received(2).EnqueueAsync(
            DeliveryQueueKind.PullRequests, Arg.Is<WebhookEnvelope>(e => e.DeliveryId == "same"),
            Arg.Any<ReadOnlyMemory<byte>>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Every_non_2xx_answer_is_json_with_status_and_reason()
    {
        var answers = new[]
        {
            await SendAsync(Deliveries.Request(null, MergedBytes())),
            await SendAsync(Deliveries.Request("pull_request", MergedBytes(), sign: false)),
            await SendAsync(Deliveries.Request("pull_request", MergedBytes(), contentType: "text/plain")),
            await SendAsync(Deliveries.Request("pull_request", "{"u8.ToArray())),
        };

        foreach (var answer in answers)
        {
            var json = JsonNode.Parse(answer.ToJson())!;
            Assert.Equal("rejected", (string?)json["status"]);
            Assert.False(string.IsNullOrWhiteSpace((string?)json["reason"]));
        }
    }

    private static byte[] MergedBytes() => WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());

    private void AssertNothingQueued() =>
        _ = queues.DidNotReceiveWithAnyArgs().EnqueueAsync(default, default!, default, default);

    private sealed class UnreadableStream(long length) : Stream
    {
        public bool WasRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get; set; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) { WasRead = true; return 0; }
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            WasRead = true;
            return ValueTask.FromResult(0);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task A_request_that_announces_25_MB_and_sends_a_few_bytes_costs_kilobytes_not_megabytes()
    {
        var request = Deliveries.Request("pull_request", "{}"u8.ToArray(), signature: "sha256=" + new string('0', 64));
        request.ContentLength = WebhookOptions.DefaultMaxBodyBytes;
        var ingress = Ingress();

        // MemoryStream reads complete synchronously, so the whole rejection runs on this thread.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var answer = await ingress.HandleAsync(request, CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(401, answer.StatusCode);
        Assert.True(allocated < 256 * 1024, $"allocated {allocated:N0} bytes for a 2-byte body");
    }

    [Theory]
    [InlineData("../../webhook-payloads/x")]
    [InlineData("a/b")]
    [InlineData("72d3162e cc78")]
    [InlineData("72d3162e%2Fcc78")]
    public async Task A_delivery_id_that_could_become_a_path_or_key_is_refused_and_never_queued(string deliveryId)
    {
        var answer = await SendAsync(Deliveries.Request("pull_request", WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest()), deliveryId: deliveryId));

        Assert.Equal(400, answer.StatusCode);
        Assert.Contains("X-GitHub-Delivery", Json(answer), StringComparison.Ordinal);
        await queues.DidNotReceiveWithAnyArgs().EnqueueAsync(default, default!, default, default);
    }

    [Fact]
    public async Task A_delivery_id_longer_than_a_guid_needs_is_refused()
    {
        var answer = await SendAsync(Deliveries.Request("ping", WebhookExamples.Bytes(WebhookExamples.Get("ping")), deliveryId: new string('a', 101)));

        Assert.Equal(400, answer.StatusCode);
    }

    [Fact]
    public async Task Every_payload_depth_the_ingress_accepts_is_readable_by_the_queue_handlers_and_a_deeper_one_is_refused()
    {
        var accepted = 0;
        foreach (var depth in Enumerable.Range(58, 12).Append(100))
        {
            var payload = WebhookExamples.Get("deployment", "created");
            JsonNode nested = new JsonObject();
            for (var level = 0; level < depth - 3; level++)
            {
                nested = new JsonObject { ["a"] = nested };
            }

            payload["deployment"]!["payload"] = nested;
            var bytes = WebhookExamples.Bytes(payload);
            queues.ClearReceivedCalls();

            var answer = await SendAsync(Deliveries.Request("deployment", bytes));

            if (answer.StatusCode != 202)
            {
                Assert.Equal(400, answer.StatusCode);
                continue;
            }

            accepted = depth;
            var call = queues.ReceivedCalls().Single();
            var envelope = (WebhookEnvelope)call.GetArguments()[1]!;
            var message = envelope.Serialize(((ReadOnlyMemory<byte>)call.GetArguments()[2]!).Span);
            var queued = new QueuedDelivery(WebhookEnvelope.Deserialize(message, out var inline), inline);
            Assert.Equal(145988746, queued.Read<Octokit.Webhooks.Events.Deployment.DeploymentCreatedEvent>().Deployment!.Id);
        }

        Assert.InRange(accepted, 60, 69); // the limit lies inside the range tried, so both sides of it were tried
    }
}
