using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace DeployFunctions.Webhooks;

/// <summary>
/// The queue message for one accepted delivery: who sent what, when, and the payload, inline when the message stays
/// under the queue's size limit or else as a reference to a blob (claim-check).
/// </summary>
/// <remarks>
/// Wire format (UTF-8 JSON, schema version 1), property order fixed:
/// <c>{"schemaVersion":1,"deliveryId":"…","event":"…","action":"…","receivedAt":"…","hookId":1,"installationId":2,
/// "repository":"owner/name","payload":{…}}</c>, or <c>"payloadBlob":"container/name"</c> in place of <c>payload</c>.
/// Null fields are written as null. Optional fields, written only when set, stand before the payload: <c>attempt</c>,
/// for deployment events <c>deploymentId</c> and <c>environment</c> (so a delivery whose payload is lost still names
/// its deployment), and on a poison queue <c>poisonReason</c>. Readers must reject a schema version they do not know.
/// </remarks>
public sealed record WebhookEnvelope
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>
    /// The largest envelope sent inline. A queue message holds 64 KiB after base64 encoding (which the queue trigger
    /// expects), that is 48 KiB of raw bytes.
    /// </summary>
    public const int MaxInlineBytes = 48 * 1024;

    /// <summary>Room for everything but the payload; envelopes whose payload leaves less go by claim-check.</summary>
    private const int MetadataAllowance = 1024;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required string DeliveryId { get; init; }
    public required string Event { get; init; }
    public string? Action { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public long? HookId { get; init; }
    public long? InstallationId { get; init; }
    public string? Repository { get; init; }

    /// <summary>
    /// How many times a handler has put this delivery back on its queue after a transient fault (0 from the ingress).
    /// Written only when above 0.
    /// </summary>
    public int Attempt { get; init; }

    /// <summary><c>deployment.id</c> for deployment and deployment status events. Written only when set.</summary>
    public long? DeploymentId { get; init; }

    /// <summary><c>deployment.environment</c> for deployment and deployment status events. Written only when set.</summary>
    public string? Environment { get; init; }

    /// <summary>Why the app moved it to the poison queue (written only there). The host's own moves carry none.</summary>
    public string? PoisonReason { get; init; }

    /// <summary>Blob holding the payload (<c>container/name</c>) when it did not travel inline.</summary>
    public string? PayloadBlob { get; init; }

    /// <summary>True when a payload of this many bytes fits in the message itself.</summary>
    public static bool FitsInline(int payloadBytes) => payloadBytes <= MaxInlineBytes - MetadataAllowance;

    /// <summary>
    /// Writes the envelope with <paramref name="inlinePayload"/> (already validated JSON) or its blob reference, into
    /// one buffer sized up front: the payload is copied once.
    /// </summary>
    public ReadOnlyMemory<byte> Serialize(ReadOnlySpan<byte> inlinePayload)
    {
        var buffer = new ArrayBufferWriter<byte>(inlinePayload.Length + MetadataAllowance);
        Write(buffer, inlinePayload);
        return buffer.WrittenMemory;
    }

    /// <summary>
    /// As <see cref="Serialize"/>, into a pooled buffer: the message is valid until the returned writer is disposed
    /// (after it is sent). What the ingress and the retries use.
    /// </summary>
    public PooledBufferWriter SerializePooled(ReadOnlySpan<byte> inlinePayload)
    {
        var buffer = new PooledBufferWriter(inlinePayload.Length + MetadataAllowance);
        try
        {
            Write(buffer, inlinePayload);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private void Write(IBufferWriter<byte> buffer, ReadOnlySpan<byte> inlinePayload)
    {
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion"u8, SchemaVersion);
            writer.WriteString("deliveryId"u8, DeliveryId);
            writer.WriteString("event"u8, Event);
            WriteStringOrNull(writer, "action"u8, Action);
            writer.WriteString("receivedAt"u8, ReceivedAt);
            WriteNumberOrNull(writer, "hookId"u8, HookId);
            WriteNumberOrNull(writer, "installationId"u8, InstallationId);
            WriteStringOrNull(writer, "repository"u8, Repository);
            if (Attempt > 0)
            {
                writer.WriteNumber("attempt"u8, Attempt);
            }

            if (DeploymentId is { } deploymentId)
            {
                writer.WriteNumber("deploymentId"u8, deploymentId);
            }

            if (Environment is not null)
            {
                writer.WriteString("environment"u8, Environment);
            }

            if (PoisonReason is not null)
            {
                writer.WriteString("poisonReason"u8, PoisonReason);
            }

            if (PayloadBlob is not null)
            {
                writer.WriteString("payloadBlob"u8, PayloadBlob);
            }
            else
            {
                writer.WritePropertyName("payload"u8);
                // The ingress has already read the whole payload once; writing it again unchecked saves a second pass.
                writer.WriteRawValue(inlinePayload, skipInputValidation: true);
            }

            writer.WriteEndObject();
        }
    }

    /// <summary>Reads an envelope; <paramref name="payload"/> is the inline payload, empty when it is in a blob.</summary>
    public static WebhookEnvelope Deserialize(ReadOnlyMemory<byte> message, out ReadOnlyMemory<byte> payload)
    {
        using var document = JsonDocument.Parse(message, new JsonDocumentOptions { MaxDepth = PayloadSummary.MaxDepth + 1 });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("The queue message is not a webhook envelope (not a JSON object).");
        }

        var version = root.TryGetProperty("schemaVersion", out var v) && v.TryGetInt32(out var n) ? n : 0;
        if (version != CurrentSchemaVersion)
        {
            throw new InvalidDataException(
                $"The queue message has envelope schema version {version}; this app reads version {CurrentSchemaVersion}.");
        }

        payload = ReadOnlyMemory<byte>.Empty;
        if (root.TryGetProperty("payload", out var inline) && inline.ValueKind == JsonValueKind.Object)
        {
            // Slice the original bytes instead of re-serializing: the payload reaches handlers exactly as GitHub sent it.
            payload = SliceRaw(message, inline);
        }

        return new WebhookEnvelope
        {
            SchemaVersion = version,
            DeliveryId = RequiredString(root, "deliveryId"),
            Event = RequiredString(root, "event"),
            Action = OptionalString(root, "action"),
            ReceivedAt = root.GetProperty("receivedAt").GetDateTimeOffset(),
            HookId = OptionalInt64(root, "hookId"),
            InstallationId = OptionalInt64(root, "installationId"),
            Repository = OptionalString(root, "repository"),
            Attempt = (int)(OptionalInt64(root, "attempt") ?? 0),
            DeploymentId = OptionalInt64(root, "deploymentId"),
            Environment = OptionalString(root, "environment"),
            PoisonReason = OptionalString(root, "poisonReason"),
            PayloadBlob = OptionalString(root, "payloadBlob"),
        };
    }

    private static ReadOnlyMemory<byte> SliceRaw(ReadOnlyMemory<byte> message, JsonElement element)
    {
        // JsonDocument.Parse(ReadOnlyMemory) reads the message in place, so the raw value is a slice of it.
        var raw = JsonMarshal.GetRawUtf8Value(element);
        return message.Span.Overlaps(raw, out var offset) ? message.Slice(offset, raw.Length) : raw.ToArray();
    }

    private static string RequiredString(JsonElement root, string name) =>
        OptionalString(root, name) ?? throw new InvalidDataException($"The webhook envelope has no '{name}'.");

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? OptionalInt64(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    private static void WriteStringOrNull(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter writer, ReadOnlySpan<byte> name, long? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteNumber(name, value.Value);
        }
    }
}
