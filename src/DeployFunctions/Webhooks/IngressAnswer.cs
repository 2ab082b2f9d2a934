using System.Text.Json;
using DeployFunctions.Http;

namespace DeployFunctions.Webhooks;

/// <summary>
/// The ingress's answer: a status code and a small JSON body with a machine-readable <c>status</c> and, when
/// something was not done, a human <c>reason</c>. GitHub shows it in the hook's Recent Deliveries.
/// </summary>
public sealed record IngressAnswer(int StatusCode, string Status, string? Reason = null) : JsonAnswer(StatusCode)
{
    public string? Queue { get; init; }
    public string? Delivery { get; init; }
    public long? Hook { get; init; }

    /// <summary>The app's version, in the answer to a <c>ping</c> (what is answering this hook).</summary>
    public string? Version { get; init; }

    public static IngressAnswer Queued(string queue, string delivery) => new(202, "queued") { Queue = queue, Delivery = delivery };

    public static IngressAnswer Ignored(string reason, string delivery) => new(200, "ignored", reason) { Delivery = delivery };

    public static IngressAnswer Pong(long? hookId, string delivery) => new(200, "pong") { Hook = hookId, Delivery = delivery, Version = AppVersion.Current };

    public static IngressAnswer Rejected(int statusCode, string reason) => new(statusCode, "rejected", reason);

    public static IngressAnswer Unavailable(string reason) => new(503, "unavailable", reason);

    public override byte[] ToJson()
    {
        using var stream = new MemoryStream(128);
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("status"u8, Status);
            if (Reason is not null)
            {
                writer.WriteString("reason"u8, Reason);
            }

            if (Queue is not null)
            {
                writer.WriteString("queue"u8, Queue);
            }

            if (Delivery is not null)
            {
                writer.WriteString("delivery"u8, Delivery);
            }

            if (Hook is not null)
            {
                writer.WriteNumber("hook"u8, Hook.Value);
            }

            if (Version is not null)
            {
                writer.WriteString("version"u8, Version);
            }

            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
