using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;

namespace DeployFunctions.Webhooks;

/// <summary>
/// The command prefix the ingress routes comments on; none registered, or a null prefix: commands are off. With
/// <paramref name="UnlockOnClose"/>, a pull request closed without merging is queued too (its locks are released); with
/// <paramref name="Previews"/> (<c>Previews__Enabled</c>), pull requests opened, pushed to and closed go to the previews' queue.
/// </summary>
public sealed record CommandRouting(string? Prefix, bool UnlockOnClose = false, bool Previews = false);

/// <summary>The headers of a delivery that the ingress reads.</summary>
public sealed record DeliveryHeaders
{
    public string? Event { get; init; }
    public string? DeliveryId { get; init; }
    public string? Signature256 { get; init; }
    public string? HookId { get; init; }
    public string? ContentType { get; init; }
}

/// <summary>The ingress's verdict on one delivery, before any I/O.</summary>
public abstract record IntakeResult
{
    private IntakeResult()
    {
    }

    /// <summary>Refused with a 4xx status and a reason that is safe to show the sender.</summary>
    public sealed record Rejected(int StatusCode, string Reason) : IntakeResult;

    /// <summary>Authentic and well-formed; <see cref="Route"/> says what to do with it.</summary>
    public sealed record Accepted(WebhookEnvelope Envelope, ReadOnlyMemory<byte> Payload, DeliveryRoute Route) : IntakeResult;
}

/// <summary>
/// The ingress hot path without I/O: headers, content type, signature over the raw bytes, payload extraction
/// (JSON or form <c>payload=</c>), one parse, routing, and the envelope.
/// </summary>
public sealed class DeliveryIntake(WebhookSignature signature, TimeProvider clock, CommandRouting? commands = null)
{
    private static readonly byte[] FormPayloadKey = "payload="u8.ToArray();

    private enum BodyFormat { Json, Form }

    /// <summary>Cheap checks that need no body: run them before reading it.</summary>
    public static IntakeResult.Rejected? CheckHeaders(DeliveryHeaders headers) => CheckHeaders(headers, out _);

    private static IntakeResult.Rejected? CheckHeaders(DeliveryHeaders headers, out BodyFormat format)
    {
        ArgumentNullException.ThrowIfNull(headers);
        format = BodyFormat.Json;
        if (string.IsNullOrWhiteSpace(headers.Event))
        {
            return new(400, "missing X-GitHub-Event header: this endpoint only accepts GitHub webhook deliveries");
        }

        if (string.IsNullOrWhiteSpace(headers.DeliveryId))
        {
            return new(400, "missing X-GitHub-Delivery header: this endpoint only accepts GitHub webhook deliveries");
        }

        if (!IsDeliveryId(headers.DeliveryId!))
        {
            return new(400,
                "X-GitHub-Delivery must be GitHub's delivery GUID (at most 100 letters, digits, '-' or '_')");
        }

        if (string.IsNullOrWhiteSpace(headers.Signature256))
        {
            return new(401,
                "missing X-Hub-Signature-256 header: set a secret on the GitHub webhook (the same as Webhook__Secrets__0)");
        }

        return ReadFormat(headers.ContentType, out format);
    }

    /// <summary>
    /// The header is not covered by the signature, so it is only ever a label: GitHub sends a GUID, and anything that
    /// could become a path or a key elsewhere is refused.
    /// </summary>
    private static bool IsDeliveryId(string id) =>
        id.Length <= 100 && id.AsSpan().IndexOfAnyExcept(DeliveryIdCharacters) < 0;

    private static readonly System.Buffers.SearchValues<char> DeliveryIdCharacters =
        System.Buffers.SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_");

    public IntakeResult Evaluate(DeliveryHeaders headers, ReadOnlyMemory<byte> body)
    {
        if (CheckHeaders(headers, out var format) is { } rejected)
        {
            return rejected;
        }

        if (!signature.IsValid(headers.Signature256, body.Span))
        {
            return new IntakeResult.Rejected(401,
                "X-Hub-Signature-256 does not match the body under any configured secret: check that the webhook's " +
                "secret on GitHub equals Webhook__Secrets__0 (or another configured secret)");
        }

        ReadOnlyMemory<byte> payload;
        if (format == BodyFormat.Json)
        {
            payload = body;
        }
        else if (ExtractFormPayload(body) is { } formPayload)
        {
            payload = formPayload;
        }
        else
        {
            return new IntakeResult.Rejected(400, "the form body has no 'payload' field");
        }

        PayloadSummary summary;
        try
        {
            summary = PayloadSummary.Read(payload.Span);
        }
        catch (InvalidPayloadException exception)
        {
            return new IntakeResult.Rejected(400, exception.Message);
        }

        var envelope = new WebhookEnvelope
        {
            DeliveryId = headers.DeliveryId!,
            Event = headers.Event!,
            Action = summary.Action,
            ReceivedAt = clock.GetUtcNow(),
            HookId = long.TryParse(headers.HookId, out var hookId) ? hookId : summary.HookId,
            InstallationId = summary.InstallationId,
            Repository = summary.RepositoryFullName,
            DeploymentId = summary.DeploymentId,
            Environment = summary.DeploymentEnvironment,
        };

        return new IntakeResult.Accepted(envelope, payload, DeliveryRoute.For(envelope.Event, summary, commands?.Prefix, commands?.UnlockOnClose == true, commands?.Previews == true));
    }

    private static IntakeResult.Rejected? ReadFormat(string? contentType, out BodyFormat format)
    {
        format = BodyFormat.Json;
        if (string.Equals(contentType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            return null; // what GitHub sends: no need to parse parameters
        }

        if (string.IsNullOrWhiteSpace(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return new(415, "missing or unreadable Content-Type: use application/json or application/x-www-form-urlencoded");
        }

        if (string.Equals(media.MediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (string.Equals(media.MediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            format = BodyFormat.Form;
            return null;
        }

        return new(415,
            $"Content-Type '{media.MediaType}' is not supported: use application/json or application/x-www-form-urlencoded");
    }

    /// <summary>The url-decoded value of the form field <c>payload</c>, or null when there is none.</summary>
    private static byte[]? ExtractFormPayload(ReadOnlyMemory<byte> body)
    {
        var form = body.Span;
        var start = 0;
        while (start < form.Length)
        {
            var length = form[start..].IndexOf((byte)'&');
            if (length < 0)
            {
                length = form.Length - start;
            }

            if (form.Slice(start, length).StartsWith(FormPayloadKey))
            {
                var valueStart = start + FormPayloadKey.Length;
                var valueLength = length - FormPayloadKey.Length;
                // Decode straight from the body's own array when it has one: no copy of a large body.
                return MemoryMarshal.TryGetArray(body, out var segment)
                    ? WebUtility.UrlDecodeToBytes(segment.Array, segment.Offset + valueStart, valueLength)
                    : WebUtility.UrlDecodeToBytes(body.Slice(valueStart, valueLength).ToArray(), 0, valueLength);
            }

            start += length + 1;
        }

        return null;
    }
}
