using System.Text;
using System.Text.Json.Nodes;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;

namespace DeployFunctions.Tests.Webhooks;

public sealed class WebhookEnvelopeTests
{
    private static readonly WebhookEnvelope Envelope = new()
    {
        DeliveryId = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        Event = "pull_request",
        Action = "closed",
        ReceivedAt = new DateTimeOffset(2026, 11, 26, 9, 30, 0, TimeSpan.Zero),
        HookId = 292430182,
        InstallationId = 2311213,
        Repository = "Codertocat/Hello-World",
    };

    [Fact]
    public void Inline_envelope_round_trips_with_the_payload_byte_identical()
    {
        var payload = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());

        var message = Envelope.Serialize(payload);
        var read = WebhookEnvelope.Deserialize(message, out var readPayload);

        Assert.Equal(Envelope, read);
        Assert.Equal(payload, readPayload.ToArray());
    }

    [Fact]
    public void Wire_format_is_the_documented_one()
    {
        var message = Encoding.UTF8.GetString(Envelope.Serialize("{\"a\":1}"u8).Span);

        Assert.Equal(
            """{"schemaVersion":1,"deliveryId":"72d3162e-cc78-11e3-81ab-4c9367dc0958","event":"pull_request","action":"closed","receivedAt":"2026-11-26T09:30:00+00:00","hookId":292430182,"installationId":2311213,"repository":"Codertocat/Hello-World","payload":{"a":1}}""",
            message);
    }

    [Fact]
    public void The_pooled_message_is_the_same_bytes_even_when_the_metadata_outgrows_its_allowance()
    {
        var payload = WebhookExamples.Bytes(WebhookExamples.DerivedMergedPullRequest());
        var poisoned = Envelope with { PoisonReason = new string('r', 5000), Environment = "production", DeploymentId = 7 };

        using var pooled = poisoned.SerializePooled(payload);

        Assert.Equal(poisoned.Serialize(payload).ToArray(), pooled.WrittenMemory.ToArray());
        Assert.Equal(poisoned, WebhookEnvelope.Deserialize(pooled.WrittenMemory.ToArray(), out _));
    }

    [Fact]
    public void A_pooled_message_cannot_be_read_after_it_is_returned()
    {
        var pooled = Envelope.SerializePooled("{}"u8);
        pooled.Dispose();
        pooled.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pooled.WrittenMemory);
    }

    [Fact]
    public void Claim_check_envelope_carries_the_blob_reference_instead_of_the_payload()
    {
        var withBlob = Envelope with { PayloadBlob = "webhook-payloads/72d3162e.json" };

        var message = withBlob.Serialize([]);
        var json = JsonNode.Parse(message.Span)!;
        var read = WebhookEnvelope.Deserialize(message, out var payload);

        Assert.Null(json["payload"]);
        Assert.Equal("webhook-payloads/72d3162e.json", read.PayloadBlob);
        Assert.True(payload.IsEmpty);
    }

    [Fact]
    public void Unknown_schema_version_is_refused()
    {
        var message = "{\"schemaVersion\":2,\"deliveryId\":\"d\",\"event\":\"e\",\"receivedAt\":\"2026-11-26T09:30:00Z\"}"u8.ToArray();

        var exception = Assert.Throws<InvalidDataException>(() => WebhookEnvelope.Deserialize(message, out _));

        Assert.Contains("schema version 2", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(47 * 1024, true)]
    [InlineData(48 * 1024, false)]
    public void Only_payloads_that_keep_the_message_under_the_queue_limit_travel_inline(int payloadBytes, bool inline) =>
        Assert.Equal(inline, WebhookEnvelope.FitsInline(payloadBytes));

    [Fact]
    public void An_inline_envelope_at_the_threshold_stays_within_64_KiB_once_base64_encoded()
    {
        var padding = new string('x', 47 * 1024 - 16);
        var payload = Encoding.UTF8.GetBytes($"{{\"body\":\"{padding}\"}}");
        Assert.True(WebhookEnvelope.FitsInline(payload.Length));

        var message = Envelope.Serialize(payload);

        Assert.True(Convert.ToBase64String(message.Span).Length <= 64 * 1024);
    }
}
